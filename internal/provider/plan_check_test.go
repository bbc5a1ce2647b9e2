package provider_test

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// pathsRequested lists the paths of the requests the server received, in order.
func pathsRequested(u localUnkey) []string {
	var out []string
	for _, r := range u.Requests() {
		out = append(out, r.Path)
	}
	return out
}

// onlyChecksWereMade fails when the server received anything but apis.getApi.
func onlyChecksWereMade(u localUnkey) error {
	for _, p := range pathsRequested(u) {
		if p != "/v2/apis.getApi" {
			return fmt.Errorf("a plan that should have failed sent %s (all requests: %v)", p, pathsRequested(u))
		}
	}
	return nil
}

// A wrong root key or api_id fails the plan of a new migration, naming where
// the root key came from or both causes of a 404, before anything is sent.
func TestAccPlanCheck_wrongRootKeyOrAPI(t *testing.T) {
	const wrongKey = "unkey_wrong_root_key_0123456789"
	cases := []struct {
		name  string
		setup func(t *testing.T, u localUnkey) string // returns the configuration
		want  []string
	}{
		{"root key from root_key", func(t *testing.T, u localUnkey) string {
			return withRootKeyLine(u, u.migrationConfig("", generatedKeys("plan401", 2)), fmt.Sprintf("  root_key = %q", wrongKey))
		}, []string{"Unkey does not know the root key", "refused the root key from root_key", "Unkey answered 401", "Check the provider's root key (root_key)"}},
		{"root key from UNKEY_ROOT_KEY", func(t *testing.T, u localUnkey) string {
			t.Setenv("UNKEY_ROOT_KEY", wrongKey)
			return withRootKeyLine(u, u.migrationConfig("", generatedKeys("plan401", 2)), "")
		}, []string{"Unkey does not know the root key", "refused the root key from UNKEY_ROOT_KEY", "Unkey answered 401"}},
		{"root key from the CLI config file", func(t *testing.T, u localUnkey) string {
			file := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(file, []byte(fmt.Sprintf("root_key = %q\n", wrongKey)), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("UNKEY_ROOT_KEY", "")
			t.Setenv("UNKEY_CONFIG", file)
			return withRootKeyLine(u, u.migrationConfig("", generatedKeys("plan401", 2)), "")
		}, []string{"Unkey does not know the root key", "refused the root key from root_key in the Unkey CLI config file", "Unkey answered 401"}},
		{"deleted API", func(t *testing.T, u localUnkey) string {
			return withAPIID(u, u.migrationConfig("", generatedKeys("plan404", 2)), "api_never_existed")
		}, []string{"API not found with this root key", "API api_never_existed with the root key from root_key", "the API was deleted",
			"the root key belongs to another Unkey workspace", "Unkey answered 404", "api_not_found"}},
		{"API of another workspace", func(t *testing.T, u localUnkey) string {
			u.AddAPI("ws_other", "api_other_workspace", "theirs")
			return withAPIID(u, u.migrationConfig("", generatedKeys("plan404", 2)), "api_other_workspace")
		}, []string{"API not found with this root key", "the API was deleted", "the root key belongs to another Unkey workspace"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := startLocalUnkey(t)
			cfg := tc.setup(t, u)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config:      cfg,
					PlanOnly:    true,
					ExpectError: errorLike(tc.want...),
				}},
				CheckDestroy: func(*terraform.State) error {
					if len(u.RequestsTo("/v2/apis.getApi")) == 0 {
						return fmt.Errorf("the plan did not check the API")
					}
					return onlyChecksWereMade(u)
				},
			})
		})
	}
}

// withRootKeyLine replaces the root_key line of the provider block.
func withRootKeyLine(u localUnkey, cfg, line string) string {
	return strings.Replace(cfg, fmt.Sprintf("  root_key = %q\n", u.Seed.RootKey), line+"\n", 1)
}

func withAPIID(u localUnkey, cfg, apiID string) string {
	return strings.Replace(cfg, fmt.Sprintf("api_id       = %q", u.Seed.APIID), fmt.Sprintf("api_id       = %q", apiID), 1)
}

// A migration-only root key without read_api gets 403 from the plan's
// check: the plan goes on, and the apply migrates.
func TestAccPlanCheck_forbiddenCheckGoesOn(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	const migrateOnly = "unkey_migrate_only_root_key_0123"
	u.AddRootKey(u.Seed.WorkspaceID, migrateOnly, "api.*.create_key")
	keys := generatedKeys("plan403", 3)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: withRootKeyLine(u, u.migrationConfig("", keys), fmt.Sprintf("  root_key = %q", migrateOnly)),
			Check: func(*terraform.State) error {
				forbidden := 0
				for _, r := range u.RequestsTo("/v2/apis.getApi") {
					if r.Status == 403 {
						forbidden++
					}
				}
				if forbidden == 0 {
					return fmt.Errorf("the plan's check was not answered 403; the test proves nothing")
				}
				return nil
			},
			ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, sortedHashes(keys))},
		}},
	})
}

// Plans of an unchanged migration make no request beyond the refresh's one
// apis.getApi; a plan that creates or changes migrations checks each API
// once, sharing the refresh's answer.
func TestAccPlanCheck_requestsPerPlan(t *testing.T) {
	t.Parallel()
	acctest.RequireAcc(t)
	u := startLocalUnkey(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	keys := generatedKeys("perplan", 3)
	// Two migrations of the same API: one check serves both.
	second := fmt.Sprintf("resource \"unkey_key_migration\" \"second\" {\n  migration_id = %q\n  api_id       = %q\n  keys_json    = %q\n}\n",
		u.Seed.MigrationID, u.Seed.APIID, fmt.Sprintf(`[{"hash":%q}]`, hashOf("perplan_second")))
	w.WriteConfig(u.migrationConfig("", keys) + second)

	plan := func(want []string, args ...string) {
		t.Helper()
		u.ResetRequests()
		if out, err := w.Run("plan", args...); err != nil {
			t.Fatalf("terraform plan %v: %v\n%s", args, err, out)
		}
		if got := pathsRequested(u); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("terraform plan %v made the requests %v, want %v", args, got, want)
		}
	}
	plan([]string{"/v2/apis.getApi"}) // creating two migrations of one API
	if out, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	plan([]string{"/v2/apis.getApi", "/v2/apis.getApi"}) // unchanged: each refresh only
	plan(nil, "-refresh=false")                          // unchanged, no refresh: nothing at all

	w.WriteConfig(u.migrationConfig("", merge(keys, generatedKeys("perplan_more", 1))) + second)
	plan([]string{"/v2/apis.getApi", "/v2/apis.getApi"}) // a change: the refreshes' answer serves the check
	plan([]string{"/v2/apis.getApi"}, "-refresh=false")  // a change without refresh: one check
}

// closedPortURL is a loopback URL nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	_ = l.Close()
	return url
}

// A wrong or unreachable API URL fails the plan, at once unless it can heal,
// naming the URL and where it came from.
func TestAccPlanCheck_wrongAPIURL(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, u localUnkey) string // returns the api_url line of the provider block
		want  []string
	}{
		{"api_url that does not resolve", func(*testing.T, localUnkey) string {
			return `  api_url = "https://api.unkey.invalid"`
		}, []string{"could not reach Unkey at https://api.unkey.invalid (from api_url)", "no such host", "does not resolve"}},
		{"UNKEY_API_URL that does not resolve", func(t *testing.T, _ localUnkey) string {
			t.Setenv("UNKEY_API_URL", "https://unkey.example.invalid")
			return ""
		}, []string{"could not reach Unkey at https://unkey.example.invalid (from UNKEY_API_URL)", "does not resolve"}},
		{"UNKEY_API_BASE_URL that does not resolve", func(t *testing.T, _ localUnkey) string {
			t.Setenv("UNKEY_API_URL", "")
			t.Setenv("UNKEY_API_BASE_URL", "https://base.unkey.invalid")
			return ""
		}, []string{"could not reach Unkey at https://base.unkey.invalid (from UNKEY_API_BASE_URL)", "does not resolve"}},
		{"a server that is not Unkey", func(t *testing.T, u localUnkey) string {
			u.InjectFault(unkeylocal.Fault{Kind: unkeylocal.FaultRawResponse, Status: 404, ContentType: "text/html", Body: []byte("<html>Not Found</html>")})
			return fmt.Sprintf("  api_url = %q", u.URL)
		}, []string{"the server at", "(from api_url) answered 404", "not an answer of Unkey's API", "check the API URL"}},
		{"an untrusted TLS certificate", func(t *testing.T, u localUnkey) string {
			ts := httptest.NewUnstartedServer(u.Server)
			ts.Config.ErrorLog = log.New(io.Discard, "", 0)
			ts.StartTLS()
			t.Cleanup(ts.Close)
			return fmt.Sprintf("  api_url = %q", ts.URL)
		}, []string{"(from api_url)", "certificate", "TLS certificate is not valid"}},
		{"nothing listening: retried within retry_timeout", func(t *testing.T, _ localUnkey) string {
			return fmt.Sprintf("  api_url = %q\n  retry_timeout = \"1s\"", closedPortURL(t))
		}, []string{"could not reach Unkey at http://127.0.0.1:", "(from api_url)", "refused", "gave up after", "attempts"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := startLocalUnkey(t)
			t.Setenv("UNKEY_API_URL", "")
			t.Setenv("UNKEY_API_BASE_URL", "")
			line := tc.setup(t, u)
			cfg := strings.Replace(u.migrationConfig("", generatedKeys("badurl", 2)), fmt.Sprintf("  api_url  = %q\n", u.URL), line+"\n", 1)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config:      cfg,
					PlanOnly:    true,
					ExpectError: errorLike(append([]string{"Could not check the Unkey API at plan time"}, tc.want...)...),
				}},
				CheckDestroy: func(*terraform.State) error {
					if n := len(u.RequestsTo("/v2/keys.migrateKeys")); n > 0 {
						return fmt.Errorf("%d migrateKeys requests", n)
					}
					return nil
				},
			})
		})
	}
}

// The refresh of an existing migration (the one plan and destroy start
// with) fails at once too on a URL that does not resolve.
func TestAccPlanCheck_refreshFailsFastOnAWrongURL(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	cfg := u.migrationConfig("", generatedKeys("refreshurl", 2))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				Config:      strings.Replace(cfg, fmt.Sprintf("api_url  = %q", u.URL), `api_url  = "https://api.unkey.invalid"`, 1),
				PlanOnly:    true,
				ExpectError: errorLike("could not reach Unkey at https://api.unkey.invalid (from api_url)", "does not resolve"),
			},
			{Config: cfg, PlanOnly: true}, // nothing was lost: back on the right URL, no changes
		},
	})
}
