package provider_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
)

// The API and its migration in one apply: the migration's api_id is unknown
// at plan time and known when it is created.
func TestAccAPI_withMigrationInOneApply(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	h := hashOf("api_test_key")
	cfg := func(name string) string {
		return u.providerBlock() + fmt.Sprintf(`
resource "unkey_api" "test" {
  name = %q
}

resource "unkey_key_migration" "test" {
  migration_id = %q
  api_id       = unkey_api.test.id
  # Deleting an API only soft-deletes its keys, which keeps their hashes
  # taken; deleting them for good lets a replacement API take them again.
  deletion_policy = "delete"
  keys = {
    %q = { name = "first" }
  }
}

data "unkey_api" "test" {
  id = unkey_api.test.id
}

data "unkey_key" "test" {
  key_id = unkey_key_migration.test.key_ids[%q]
}
`, name, u.Seed.MigrationID, h, h)
	}
	var apiID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: cfg("payments"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("unkey_api.test", tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^api_`))),
					statecheck.ExpectKnownValue("data.unkey_api.test", tfjsonpath.New("name"), knownvalue.StringExact("payments")),
					statecheck.ExpectKnownValue("data.unkey_key.test", tfjsonpath.New("name"), knownvalue.StringExact("first")),
					statecheck.ExpectKnownValue("data.unkey_key.test", tfjsonpath.New("enabled"), knownvalue.Bool(true)),
				},
				Check: func(s *terraform.State) error {
					apiID = s.RootModule().Resources["unkey_api.test"].Primary.ID
					if k, ok := u.KeyByHash(h); !ok || k.APIID != apiID {
						return fmt.Errorf("key not migrated into the new API %s: %+v", apiID, k)
					}
					return nil
				},
			},
			{
				ResourceName:      "unkey_api.test",
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// No rename in Unkey: a new name replaces the API.
				Config: cfg("billing"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_api.test", plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: func(s *terraform.State) error {
					newID := s.RootModule().Resources["unkey_api.test"].Primary.ID
					if k, ok := u.KeyByHash(h); newID == apiID || !ok || k.APIID != newID {
						return fmt.Errorf("key not migrated again into the replacement API %s: %+v", newID, k)
					}
					return nil
				},
			},
		},
	})
}

func TestAccAPI_deleteProtected(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	cfg := u.providerBlock() + `resource "unkey_api" "test" { name = "protected" }`
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(s *terraform.State) error {
					id = s.RootModule().Resources["unkey_api.test"].Primary.ID
					u.SetAPIDeleteProtection(id, true)
					return nil
				},
			},
			{
				Config:      cfg,
				Destroy:     true,
				ExpectError: errorLike("Could not delete the Unkey API", "delete protection"),
			},
			{
				Config:    cfg,
				PreConfig: func() { u.SetAPIDeleteProtection(id, false) },
			},
		},
	})
}

// An API deleted outside Terraform looks to Unkey's answers exactly like one
// of another workspace: it stays in state with a warning, a destroy deletes
// nothing, and only `terraform state rm` lets it be created again.
func TestAccAPI_deletedOutsideTerraformStaysInState(t *testing.T) {
	t.Parallel()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	u := startLocalUnkey(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	w.WriteConfig(u.providerBlock() + `resource "unkey_api" "test" { name = "vanishing" }`)
	if o, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, o)
	}
	id, _ := w.State("unkey_api.test")["id"].(string)
	u.deleteAPI(t, id)

	o, err := w.Run("plan", "-detailed-exitcode")
	if err != nil {
		t.Fatalf("the plan after the API was deleted is not empty: %v\n%s", err, o)
	}
	if !strings.Contains(flatten(o), "Warning: Unkey API not found with this root key") {
		t.Errorf("the plan does not warn:\n%s", o)
	}
	o, err = w.Run("destroy", "-auto-approve")
	if err == nil || !strings.Contains(flatten(o), "Nothing was deleted, and the API stays in state") {
		t.Fatalf("the destroy of an API not found did not fail saying so (err %v):\n%s", err, o)
	}
	if w.State("unkey_api.test") == nil {
		t.Fatal("the failed destroy removed the API from state")
	}
	if o, err := w.Command("state", "rm", "unkey_api.test").CombinedOutput(); err != nil {
		t.Fatalf("terraform state rm: %v\n%s", err, o)
	}
	if o, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply after terraform state rm: %v\n%s", err, o)
	}
	if again, _ := w.State("unkey_api.test")["id"].(string); again == "" || again == id {
		t.Fatalf("after terraform state rm, the apply did not create the API again: id %q", again)
	}
}

func TestAccKeyDataSource_unknownKey(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      u.providerBlock() + `data "unkey_key" "x" { key_id = "key_doesnotexist" }`,
			ExpectError: errorLike("Could not read the Unkey key", "404", "key_not_found"),
		}},
	})
}

// A root key of another workspace makes Unkey answer 404 for the API, as if
// it were deleted. unkey_api used to leave state on that 404; the next apply
// then created a new API in the other workspace, and the migration whose
// api_id refers to it was replaced: its Delete under deletion_policy =
// "abandon" forgot every key ID. Now nothing is created, replaced or
// forgotten, and a replacement the user brings about by letting go of the
// API (terraform state rm) is refused before anything is created.
func TestAccAPI_rootKeyOfAnotherWorkspace(t *testing.T) {
	t.Parallel()
	u := startLocalUnkeyWithStaging(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	keys := generatedKeys("api_foreign", 5)
	cfg := u.providerBlock() + fmt.Sprintf(`
resource "unkey_api" "test" {
  name = "payments"
}

resource "unkey_key_migration" "test" {
  migration_id = %q
  api_id       = unkey_api.test.id
  keys = {
%s  }
}
`, u.Seed.MigrationID, keysBlock(keys))
	w.WriteConfig(cfg)
	if o, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply with the workspace's root key: %v\n%s", err, o)
	}
	apiID, _ := w.State("unkey_api.test")["id"].(string)
	want := stateKeyIDs(t, w)
	if len(want) != len(keys) {
		t.Fatalf("%d key IDs after the create, want %d", len(want), len(keys))
	}
	keptEverything := func(step string) {
		t.Helper()
		if st := w.State("unkey_api.test"); st == nil || st["id"] != apiID {
			t.Fatalf("after %s, unkey_api.test in state is %v, want the API %s", step, st, apiID)
		}
		requireKeyIDs(t, w, want, step)
		for _, p := range []string{"/v2/apis.createApi", "/v2/keys.migrateKeys", "/v2/keys.deleteKey", "/v2/apis.deleteApi"} {
			if n := len(u.RequestsTo(p)); n != 0 {
				t.Fatalf("after %s: %d requests to %s with the other workspace's root key", step, n, p)
			}
		}
	}

	u.ResetRequests()
	w.WriteConfig(withOtherWorkspaceRootKey(u, cfg))
	o, err := w.Run("apply", "-auto-approve")
	if err != nil {
		t.Fatalf("apply of an unchanged configuration with the other workspace's root key: %v\n%s", err, o)
	}
	flat := flatten(o)
	for _, p := range []string{"Warning: Unkey API not found with this root key", "The API " + apiID + " was not found with the root key from root_key",
		"another workspace", "was deleted", "terraform state rm", "removed", "No changes"} {
		if !strings.Contains(flat, p) {
			t.Errorf("the apply does not say %q:\n%s", p, o)
		}
	}
	if strings.Contains(o, otherWorkspaceRootKey) {
		t.Error("the apply prints the root key")
	}
	keptEverything("an apply with the other workspace's root key")

	// Believing the API deleted, the user lets go of it. Creating it again
	// would replace the migration, in the other workspace: refused at plan.
	if o, err := w.Command("state", "rm", "unkey_api.test").CombinedOutput(); err != nil {
		t.Fatalf("terraform state rm: %v\n%s", err, o)
	}
	o, err = w.Run("apply", "-auto-approve")
	if err == nil || !strings.Contains(flatten(o), "Refusing to replace a key migration whose API the root key does not see") {
		t.Fatalf("the replacement of the migration whose API is not found was not refused (err %v):\n%s", err, o)
	}
	if w.State("unkey_api.test") != nil {
		t.Fatal("an API was created with the other workspace's root key")
	}
	w.WriteConfig(cfg)
	if o, err := w.Run("import", "unkey_api.test", apiID); err != nil {
		t.Fatalf("import of the API back with the workspace's root key: %v\n%s", err, o)
	}
	keptEverything("a refused replacement")

	if o, err := w.Run("plan", "-detailed-exitcode"); err != nil {
		t.Fatalf("back with the workspace's root key, the plan is not empty: %v\n%s", err, o)
	} else if strings.Contains(o, "not found") {
		t.Errorf("back with the workspace's root key, the plan still warns:\n%s", o)
	}
}

// keysBlock renders the entries of a migration's keys map.
func keysBlock(keys map[string]string) string {
	var b strings.Builder
	for _, h := range sortedHashes(keys) {
		fmt.Fprintf(&b, "    %q = {\n%s\n    }\n", h, keys[h])
	}
	return b.String()
}
