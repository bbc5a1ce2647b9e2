// Command ensure-terraform prints the path of a usable Terraform CLI,
// installing one first when there is none (see acctest.EnsureTerraformCLI).
// With -opentofu it does the same for OpenTofu (acctest.EnsureOpenTofuCLI),
// with -oldest for Terraform 1.5.7 whatever is on PATH
// (acctest.EnsureOldestTerraformCLI).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
)

func main() {
	opentofu := flag.Bool("opentofu", false, "find or build OpenTofu instead of Terraform")
	oldest := flag.Bool("oldest", false, "find or build Terraform "+acctest.TerraformVersion+", the oldest supported, ignoring PATH")
	printOldest := flag.Bool("print-oldest-version", false, "print "+acctest.TerraformVersion+", the version -oldest uses, and exit")
	flag.Parse()
	if *printOldest {
		fmt.Println(acctest.TerraformVersion)
		return
	}
	ensure := acctest.EnsureTerraformCLI
	switch {
	case *opentofu:
		ensure = acctest.EnsureOpenTofuCLI
	case *oldest:
		ensure = acctest.EnsureOldestTerraformCLI
	}
	path, err := ensure()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(path)
}
