package provider_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
)

// validateDiagnostics runs terraform validate -json on a migration whose keys
// map holds n generated keys, and returns its diagnostics.
func validateDiagnostics(t *testing.T, w *acctest.Workdir, n int) []validateDiagnostic {
	t.Helper()
	w.WriteConfig(`provider "unkey" {}
resource "unkey_key_migration" "test" {
  migration_id = "mig_size"
  api_id       = "api_size"
  hash_format  = "sha256_base64"
  keys = { for i in range(` + strconv.Itoa(n) + `) : base64sha256("legacy_key_${i}") => { name = "customer ${i}" } }
}
`)
	out, err := w.Command("validate", "-json", "-no-color").Output()
	var res struct {
		Valid       bool                 `json:"valid"`
		Diagnostics []validateDiagnostic `json:"diagnostics"`
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("validate: %v %v\n%s", err, jerr, out)
	}
	if !res.Valid {
		t.Fatalf("%d keys are not valid: %+v", n, res.Diagnostics)
	}
	var ours []validateDiagnostic
	for _, d := range res.Diagnostics {
		if d.Summary != "Provider development overrides are in effect" { // how the tests install the provider
			ours = append(ours, d)
		}
	}
	return ours
}

type validateDiagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
}

// A keys map of more than 1,000 keys is valid but gets a warning pointing to
// keys_file, which keeps the keys out of Terraform; 1,000 keys do not.
func TestAccKeyMigration_largeKeysMapWarnsToUseKeysFile(t *testing.T) {
	t.Parallel()
	acctest.RequireAcc(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))

	if d := validateDiagnostics(t, w, 1000); len(d) != 0 {
		t.Errorf("1,000 keys got diagnostics: %+v", d)
	}
	d := validateDiagnostics(t, w, 1001)
	if len(d) != 1 {
		t.Fatalf("1,001 keys: %d diagnostics, want the one warning: %+v", len(d), d)
	}
	if d[0].Severity != "warning" || d[0].Summary != "Large keys map: use keys_file" {
		t.Errorf("got %s %q", d[0].Severity, d[0].Summary)
	}
	for _, want := range []string{"keys holds 1,001 keys. Above 1,000 keys", `keys_file = "${path.module}/keys.json"`, `filesha256(`, "keeps every key already migrated"} {
		if !strings.Contains(d[0].Detail, want) {
			t.Errorf("the warning lacks %q:\n%s", want, d[0].Detail)
		}
	}
}
