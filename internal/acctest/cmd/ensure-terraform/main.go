// Command ensure-terraform prints the path of a usable Terraform CLI,
// installing one first when there is none (see acctest.EnsureTerraformCLI).
// With -opentofu it does the same for OpenTofu (acctest.EnsureOpenTofuCLI).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
)

func main() {
	opentofu := flag.Bool("opentofu", false, "find or build OpenTofu instead of Terraform")
	flag.Parse()
	ensure := acctest.EnsureTerraformCLI
	if *opentofu {
		ensure = acctest.EnsureOpenTofuCLI
	}
	path, err := ensure()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(path)
}
