// Command ensure-terraform prints the path of a usable Terraform CLI,
// installing one first when there is none (see acctest.EnsureTerraformCLI).
package main

import (
	"fmt"
	"os"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
)

func main() {
	path, err := acctest.EnsureTerraformCLI()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(path)
}
