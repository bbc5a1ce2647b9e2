package provider_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// The root key never appears in Terraform's or the provider's trace logs,
// the state, a saved plan, or any output, whether it is given in the
// configuration or the environment, on success and on failure.
func TestAccRootKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	for _, via := range []string{"attribute", "environment"} {
		t.Run(via, func(t *testing.T) {
			u := startLocalUnkey(t)
			const rootKey = "unkey_secret_root_key_Zq8wX3vN5mT1bY7c"
			u.AddRootKey(u.Seed.WorkspaceID, rootKey, "*")
			w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
			logFile := filepath.Join(w.Dir, "trace.log")
			w.SetEnv("TF_LOG", "TRACE")
			w.SetEnv("TF_LOG_PATH", logFile)
			cfg := strings.Replace(u.migrationConfig("  batch_size = 2", generatedKeys("secret", 5)),
				"root_key = "+quote(u.Seed.RootKey), "root_key = "+quote(rootKey), 1)
			if via == "environment" {
				cfg = strings.Replace(cfg, "  root_key = "+quote(rootKey)+"\n", "", 1)
				w.SetEnv("UNKEY_ROOT_KEY", rootKey)
			}
			w.WriteConfig(cfg)

			var outputs []string
			run := func(wantErr bool, args ...string) {
				t.Helper()
				out, err := w.Run(args[0], args[1:]...)
				if (err != nil) != wantErr {
					t.Fatalf("terraform %v: err = %v\n%s", args, err, out)
				}
				outputs = append(outputs, out)
			}
			// A failure part-way, with Unkey's error echoing the key back.
			u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultStatus, Status: 400, Skip: 1, Times: 1,
				ContentType: "text/plain", Body: []byte("token " + rootKey + " rejected")})
			run(true, "apply", "-auto-approve")
			run(false, "untaint", migration)
			run(false, "apply", "-auto-approve")
			run(false, "plan", "-out", "plan.bin")
			run(false, "show", "-json", "plan.bin")
			if via == "attribute" {
				// Terraform itself copies literal provider arguments, sensitive
				// or not, into a saved plan's "configuration" section: the key
				// is in the .tf files already. That is why the docs steer the
				// root key to the environment; everything else must be clean.
				outputs[len(outputs)-1] = withoutProviderConfigExpressions(t, outputs[len(outputs)-1])
			}
			run(false, "show", "-json")
			pulled, err := w.Command("state", "pull").CombinedOutput()
			if err != nil {
				t.Fatalf("state pull: %v\n%s", err, pulled)
			}
			outputs = append(outputs, string(pulled))

			files := []string{logFile, filepath.Join(w.Dir, "terraform.tfstate")}
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if len(b) == 0 {
					t.Fatalf("%s is empty", f)
				}
				outputs = append(outputs, string(b))
			}
			for i, o := range outputs {
				if strings.Contains(o, rootKey) {
					t.Errorf("the root key appears in output %d (%d bytes)", i, len(o))
				}
			}
			if !strings.Contains(outputs[len(outputs)-2], "keys.migrateKeys") {
				t.Errorf("the trace log does not show the provider's work: the check would prove nothing")
			}
		})
	}
}

func quote(s string) string { return `"` + s + `"` }

func withoutProviderConfigExpressions(t *testing.T, planJSON string) string {
	t.Helper()
	var plan map[string]any
	if err := json.Unmarshal([]byte(planJSON), &plan); err != nil {
		t.Fatalf("plan JSON: %v", err)
	}
	cfg, _ := plan["configuration"].(map[string]any)
	providers, _ := cfg["provider_config"].(map[string]any)
	unkey, _ := providers["unkey"].(map[string]any)
	if _, ok := unkey["expressions"]; !ok {
		t.Fatal("the plan JSON has no provider expressions: Terraform's format changed, revisit this test")
	}
	delete(unkey, "expressions")
	out, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
