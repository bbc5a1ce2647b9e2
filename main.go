// Command terraform-provider-unkey serves the Unkey Terraform provider.
package main

import (
	"flag"
	"log"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/unkeyed/terraform-provider-unkey/internal/benchhooks"
	"github.com/unkeyed/terraform-provider-unkey/internal/provider"
)

// version is stamped at release time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	quietFrameworkTraceLogs()
	defer benchhooks.Start()() // inert unless built with -tags benchhooks (cmd/unkey-bench)

	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	err := tf6server.Serve("registry.terraform.io/unkeyed/unkey", provider.NewServer(version), opts...)
	if err != nil {
		log.Fatal(err.Error())
	}
}

// quietFrameworkTraceLogs stops terraform-plugin-framework's per-value trace
// logging unless someone asked for trace logs. The framework logs each value
// of a plan with a context that grows by one level per value, which makes
// planning quadratic in the number of keys: minutes at 3,000 keys. Trace
// logs are only shown with TF_LOG=TRACE, so nothing visible is lost.
func quietFrameworkTraceLogs() {
	if os.Getenv("TF_LOG_SDK_FRAMEWORK") != "" {
		return
	}
	for _, env := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK"} {
		if strings.EqualFold(os.Getenv(env), "TRACE") || strings.EqualFold(os.Getenv(env), "JSON") {
			return
		}
	}
	_ = os.Setenv("TF_LOG_SDK_FRAMEWORK", "DEBUG")
}
