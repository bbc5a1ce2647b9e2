package provider_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
)

// Every example under examples/ is formatted and valid against the built
// provider. Examples that call provider functions need Terraform 1.8+ and
// are checked only on a CLI that has them (OpenTofu here).
func TestAccExamplesAreValid(t *testing.T) {
	t.Parallel()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	plugins := acctest.BuildProvider(t)
	dirs, err := filepath.Glob("../../examples/*/*")
	if err != nil {
		t.Fatal(err)
	}
	dirs = append(dirs, "../../examples/provider")
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
		if len(files) == 0 {
			continue
		}
		t.Run(strings.TrimPrefix(dir, "../../examples/"), func(t *testing.T) {
			w := acctest.NewWorkdir(t, plugins)
			usesFunctions := false
			all, _ := filepath.Glob(filepath.Join(dir, "*"))
			for _, f := range all {
				src, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				usesFunctions = usesFunctions || (strings.HasSuffix(f, ".tf") && strings.Contains(string(src), "provider::"))
				w.WriteFile(filepath.Base(f), string(src))
			}
			if usesFunctions && !w.SupportsProviderFunctions() {
				t.Skip("this CLI has no provider-defined functions")
			}
			if strings.HasSuffix(dir, "provider") {
				w.WriteFile("providers.tf", "") // the example declares required_providers itself
			}
			if out, err := w.Run("fmt", "-check", "-diff"); err != nil {
				t.Errorf("not formatted:\n%s", out)
			}
			if out, err := w.Run("validate"); err != nil {
				t.Errorf("invalid:\n%s", out)
			}
		})
	}
}
