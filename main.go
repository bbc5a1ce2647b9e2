// Command terraform-provider-unkey serves the Unkey Terraform provider.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/unkeyed/terraform-provider-unkey/internal/provider"
)

// version is stamped at release time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/unkeyed/unkey",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
