package provider_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

func keyConfig(u localUnkey, settings string) string {
	return u.providerBlock() + fmt.Sprintf(`
resource "unkey_role" "reader" {
  name = "reader"
}

resource "unkey_role" "writer" {
  name = "writer"
}

resource "unkey_key" "test" {
  api_id = %q
  prefix = "prod"
%s
}
`, u.Seed.APIID, settings)
}

func TestAccKey_lifecycle(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	first := `
  byte_length = 24
  name        = "billing service"
  external_id = "acme"
  meta        = jsonencode({ tier = "gold" })
  roles       = [unkey_role.reader.name]
  permissions = ["invoices.read"]
  expires     = "2030-01-01T00:00:00Z"
  credits     = { remaining = 100 }
  ratelimits  = [{ name = "requests", limit = 10, duration = "1m", auto_apply = true }]`
	second := `
  byte_length = 24
  name        = "billing service v2"
  external_id = "acme"
  roles       = [unkey_role.reader.name, unkey_role.writer.name]
  enabled     = false
  ratelimits  = [{ name = "requests", limit = 20, duration = "1m", auto_apply = true }]`
	var id, plaintext string
	stored := func() unkeylocal.Key {
		k, ok := u.KeyByID(id)
		if !ok {
			t.Fatalf("key %s not in Unkey", id)
		}
		return k
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: keyConfig(u, first),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("unkey_key.test", tfjsonpath.New("key"), knownvalue.StringRegexp(regexp.MustCompile(`^prod_[1-9A-HJ-NP-Za-km-z]{30,}$`))),
					statecheck.ExpectSensitiveValue("unkey_key.test", tfjsonpath.New("key")),
				},
				Check: func(s *terraform.State) error {
					rs := s.RootModule().Resources["unkey_key.test"].Primary
					id, plaintext = rs.ID, rs.Attributes["key"]
					k := stored()
					if k.Hash != hashOf(plaintext) || k.Name != "billing service" || k.ExternalID != "acme" || k.Meta["tier"] != "gold" ||
						!slices.Equal(k.Roles, []string{"reader"}) || !slices.Equal(k.Permissions, []string{"invoices.read"}) ||
						k.Expires == nil || *k.Expires != 1893456000000 || *k.Credits.Remaining != 100 || len(k.Ratelimits) != 1 {
						return fmt.Errorf("in Unkey: %+v", k)
					}
					return nil
				},
			},
			{
				ResourceName: "unkey_key.test", ImportState: true, ImportStateVerify: true,
				ImportStateIdFunc:       func(*terraform.State) (string, error) { return u.Seed.APIID + "/" + id, nil },
				ImportStateVerifyIgnore: []string{"key", "prefix", "byte_length"},
			},
			{
				// In place: same key ID, same plaintext.
				Config: keyConfig(u, second),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_key.test", plancheck.ResourceActionUpdate)},
				},
				Check: func(s *terraform.State) error {
					rs := s.RootModule().Resources["unkey_key.test"].Primary
					k := stored()
					if rs.ID != id || rs.Attributes["key"] != plaintext || k.Name != "billing service v2" || k.Enabled || k.Meta != nil ||
						len(k.Roles) != 2 || len(k.Permissions) != 0 || k.Expires != nil || k.Credits != nil || k.Ratelimits[0].Limit != 20 {
						return fmt.Errorf("in Unkey: %+v", k)
					}
					return nil
				},
			},
			{
				// Changed in the dashboard: the plan puts it back.
				PreConfig: func() {
					if err := u.client(t).SetRoles(context.Background(), id, []string{"reader"}); err != nil {
						t.Fatal(err)
					}
				},
				Config: keyConfig(u, second),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_key.test", plancheck.ResourceActionUpdate)},
				},
				Check: func(*terraform.State) error {
					if k := stored(); len(k.Roles) != 2 {
						return fmt.Errorf("roles not restored: %v", k.Roles)
					}
					return nil
				},
			},
			{
				// Setting recoverable to its default is recorded in place.
				Config: keyConfig(u, second+"\n  recoverable = false"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_key.test", plancheck.ResourceActionUpdate)},
				},
			},
			{
				// byte_length is given only at creation: changing it replaces the key.
				Config: keyConfig(u, `
  byte_length = 32
  recoverable = false`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_key.test", plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: func(s *terraform.State) error {
					if rs := s.RootModule().Resources["unkey_key.test"].Primary; rs.ID == id || rs.Attributes["key"] == plaintext {
						return fmt.Errorf("not replaced")
					}
					id = s.RootModule().Resources["unkey_key.test"].Primary.ID
					return nil
				},
			},
			{
				// Deleted outside Terraform: created again.
				PreConfig: func() {
					if err := u.client(t).DeleteKey(context.Background(), id); err != nil {
						t.Fatal(err)
					}
				},
				Config: keyConfig(u, `
  byte_length = 32
  recoverable = false`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_key.test", plancheck.ResourceActionCreate)},
				},
			},
			{
				// A bare key ID imports too; api_id then comes from the configuration.
				ResourceName: "unkey_key.test", ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"key", "prefix", "byte_length", "recoverable", "api_id"},
			},
		},
	})
}

func TestAccKey_errors(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      keyConfig(u, `  byte_length = 8`),
				PlanOnly:    true,
				ExpectError: errorLike("byte_length", "value must be between 16 and 255"),
			},
			{
				Config: u.providerBlock() + fmt.Sprintf(`
resource "unkey_key" "test" {
  api_id = %q
  roles  = ["missing"]
}`, u.Seed.APIID),
				ExpectError: errorLike("Could not create the Unkey key", "404", "Role 'missing' was not found"),
			},
			{
				Config: u.providerBlock() + fmt.Sprintf(`
resource "unkey_key" "test" {
  api_id      = %q
  recoverable = true
}`, u.Seed.APIID),
				ExpectError: errorLike("Could not create the Unkey key", "412", "does not support key encryption"),
			},
		},
	})
}

// After `terraform import` of a bare key ID, the attributes the import could
// not read are recorded by an in-place update, never by replacing the key.
func TestAccKey_importByKeyIDDoesNotReplace(t *testing.T) {
	t.Parallel()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	u := startLocalUnkey(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	w.WriteConfig(u.providerBlock() + fmt.Sprintf(`
resource "unkey_key" "test" {
  api_id      = %q
  prefix      = "imp"
  byte_length = 20
  name        = "imported"
}
`, u.Seed.APIID))
	run := func(args ...string) string {
		t.Helper()
		out, err := w.Run(args[0], args[1:]...)
		if err != nil {
			t.Fatalf("terraform %v: %v\n%s", args, err, out)
		}
		return out
	}
	run("apply", "-auto-approve")
	id, _ := w.State("unkey_key.test")["id"].(string)
	if out, err := w.Command("state", "rm", "unkey_key.test").CombinedOutput(); err != nil {
		t.Fatalf("terraform state rm: %v\n%s", err, out)
	}
	run("import", "unkey_key.test", id)
	out := run("plan")
	if !strings.Contains(out, "updated in-place") || strings.Contains(out, "must be replaced") {
		t.Fatalf("want an in-place update after the import:\n%s", out)
	}
	run("apply", "-auto-approve")
	st := w.State("unkey_key.test")
	if st["id"] != id || st["api_id"] != u.Seed.APIID || st["prefix"] != "imp" {
		t.Fatalf("state after the apply: %v", st)
	}
	if _, ok := u.KeyByID(id); !ok {
		t.Fatal("the key is gone")
	}
	if out := run("plan", "-detailed-exitcode"); !strings.Contains(out, "No changes") {
		t.Fatalf("the plan after recording them is not empty:\n%s", out)
	}
}

// Unkey returns a key's roles, permissions and rate limits in an order that
// changes between calls and meta numbers as float64 spells them (the local
// API does both): the resource must read the same value every time.
func TestAccKey_sameValueWhateverTheOrder(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	cfg := keyConfig(u, `
  meta        = "{\"n\": 1e3, \"ratio\": 1.50, \"big\": 9007199254740993}"
  roles       = [unkey_role.reader.name, unkey_role.writer.name]
  permissions = ["docs.read", "docs.write", "billing.read", "admin.all"]
  ratelimits = [
    { name = "requests", limit = 100, duration = "1m", auto_apply = true },
    { name = "burst", limit = 10, duration = "1s", auto_apply = true },
    { name = "daily", limit = 10000, duration = "24h" },
    { name = "writes", limit = 5, duration = "10s" },
  ]`)
	again := resource.TestStep{
		Config:           cfg,
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
	}
	steps := []resource.TestStep{{Config: cfg}}
	for range 6 {
		steps = append(steps, again)
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, Steps: steps})
	if n := len(u.RequestsTo("/v2/keys.getKey")); n < 10 {
		t.Fatalf("the key was read only %d times: too few to meet Unkey's shuffled orders", n)
	}
}

// Unkey answers 404 for a key of another workspace as for a deleted one. With
// a root key of another workspace, unkey_key used to leave state (its
// plaintext with it), and its destroy took keys.deleteKey's 404 for done
// while the key lived on. A 404 proves the key deleted only when the root
// key sees the key's API.
func TestAccKey_rootKeyOfAnotherWorkspace(t *testing.T) {
	t.Parallel()
	u := startLocalUnkeyWithStaging(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	cfg := u.providerBlock() + fmt.Sprintf(`
resource "unkey_key" "test" {
  api_id = %q
  name   = "kept"
}
`, u.Seed.APIID)
	w.WriteConfig(cfg)
	if o, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply with the workspace's root key: %v\n%s", err, o)
	}
	want := w.State("unkey_key.test")
	id, _ := want["id"].(string)
	kept := func(step string) {
		t.Helper()
		got := w.State("unkey_key.test")
		if got == nil || got["id"] != id || got["key"] != want["key"] {
			t.Fatalf("after %s, unkey_key.test in state is not the key %s with its plaintext", step, id)
		}
		if _, ok := u.KeyByID(id); !ok {
			t.Fatalf("after %s, the key %s is gone from the server", step, id)
		}
		if n := len(u.RequestsTo("/v2/keys.createKey")); n != 0 {
			t.Fatalf("after %s: %d keys.createKey requests with the other workspace's root key", step, n)
		}
	}

	// Without read_api, Unkey answers 403 for the API whatever its
	// workspace: that proves nothing either.
	const keysOnly = "unkey_local_root_staging_keys_only_Pq3Zt8"
	u.AddRootKey("ws_staging", keysOnly, "api.*.read_key", "api.*.delete_key")
	for rootKey, says := range map[string]string{otherWorkspaceRootKey: "neither was its API " + u.Seed.APIID, keysOnly: "the root key may not read its API " + u.Seed.APIID} {
		u.ResetRequests()
		w.WriteConfig(strings.Replace(cfg, u.Seed.RootKey, rootKey, 1))
		o, err := w.Run("apply", "-auto-approve")
		if err != nil {
			t.Fatalf("apply of an unchanged configuration with a root key of the other workspace: %v\n%s", err, o)
		}
		for _, p := range []string{"Warning: Unkey key not found with this root key", "The key " + id + " was not found with the root key from root_key",
			says, "another workspace", "was deleted", "terraform state rm", "removed", "No changes"} {
			if !strings.Contains(flatten(o), p) {
				t.Errorf("the apply does not say %q:\n%s", p, o)
			}
		}
		kept("an apply with a root key of the other workspace")

		o, err = w.Run("destroy", "-auto-approve")
		if err == nil || !strings.Contains(flatten(o), "Nothing was deleted, and the key stays in state") {
			t.Fatalf("the destroy with a root key of the other workspace did not fail saying so (err %v):\n%s", err, o)
		}
		if strings.Contains(o, rootKey) {
			t.Error("the destroy prints the root key")
		}
		kept("a destroy with a root key of the other workspace")
	}

	w.WriteConfig(cfg)
	if o, err := w.Run("plan", "-detailed-exitcode"); err != nil {
		t.Fatalf("back with the workspace's root key, the plan is not empty: %v\n%s", err, o)
	}
	if o, err := w.Run("destroy", "-auto-approve"); err != nil {
		t.Fatalf("destroy with the workspace's root key: %v\n%s", err, o)
	}
	if _, ok := u.KeyByID(id); ok {
		t.Fatal("the destroy with the workspace's root key left the key")
	}
}

// Unkey's keys.getKey answers a key's permissions together with those its
// roles grant. Those are not the key's own: they must not show as a change.
func TestAccKey_rolePermissionsAreNotItsOwn(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	cfg := func(permissions string) string {
		return u.providerBlock() + fmt.Sprintf(`
resource "unkey_role" "reader" {
  name        = "reader"
  permissions = ["documents.read", "invoices.read"]
}

resource "unkey_key" "test" {
  api_id = %q
  roles  = [unkey_role.reader.name]
%s
}
`, u.Seed.APIID, permissions)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg(""), ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("unkey_key.test", tfjsonpath.New("permissions"), knownvalue.Null()),
			}},
			{Config: cfg(`  permissions = ["invoices.read", "invoices.write"]`), ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("unkey_key.test", tfjsonpath.New("permissions"),
					knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("invoices.read"), knownvalue.StringExact("invoices.write")})),
			}},
			{
				// Removed outside Terraform: the plan puts it back.
				PreConfig: func() {
					var id string
					for _, k := range u.Keys(u.Seed.APIID) {
						id = k.ID
					}
					if err := u.client(t).SetPermissions(context.Background(), id, []string{"invoices.read"}); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg(`  permissions = ["invoices.read", "invoices.write"]`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_key.test", plancheck.ResourceActionUpdate)},
				},
			},
		},
	})
}
