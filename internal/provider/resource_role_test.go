package provider_test

import (
	"context"
	"fmt"
	"os"
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
)

func TestAccRole_lifecycle(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	cfg := func(description string, perms ...string) string {
		list := `["` + strings.Join(perms, `", "`) + `"]`
		if len(perms) == 0 {
			list = "null"
		}
		return u.providerBlock() + fmt.Sprintf(`
resource "unkey_permission" "read" {
  name = "read"
  slug = "docs.read"
}

resource "unkey_role" "test" {
  name        = "editor"
  description = %q
  permissions = %s
}
`, description, list)
	}
	rolePerms := func(t *testing.T) []string {
		r, err := u.client(t).GetRole(context.Background(), "editor")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(r.Permissions)
		return r.Permissions
	}
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: strings.Replace(cfg("edits", "docs.write"), `["docs.write"]`, `[unkey_permission.read.slug, "docs.write"]`, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("unkey_role.test", tfjsonpath.New("permissions"),
						knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("docs.read"), knownvalue.StringExact("docs.write")})),
				},
				Check: func(s *terraform.State) error {
					id = s.RootModule().Resources["unkey_role.test"].Primary.ID
					if got := rolePerms(t); !slices.Equal(got, []string{"docs.read", "docs.write"}) {
						return fmt.Errorf("role permissions in Unkey: %v", got)
					}
					return nil
				},
			},
			{ResourceName: "unkey_role.test", ImportState: true, ImportStateVerify: true},
			{ResourceName: "unkey_role.test", ImportState: true, ImportStateVerify: true, ImportStateId: "editor"},
			{
				// Permissions change in place: the role (and its keys) stay.
				Config: cfg("edits", "docs.read", "docs.delete"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_role.test", plancheck.ResourceActionUpdate)},
				},
				Check: func(s *terraform.State) error {
					if s.RootModule().Resources["unkey_role.test"].Primary.ID != id {
						return fmt.Errorf("the role was replaced")
					}
					if got := rolePerms(t); !slices.Equal(got, []string{"docs.delete", "docs.read"}) {
						return fmt.Errorf("role permissions in Unkey: %v", got)
					}
					return nil
				},
			},
			{
				// Edited in the dashboard: the plan shows the difference.
				PreConfig: func() {
					if err := u.client(t).SetRolePermissions(context.Background(), id, []string{"docs.read"}); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg("edits", "docs.read", "docs.delete"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("unkey_role.test", plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue("unkey_role.test", tfjsonpath.New("permissions"),
							knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("docs.read"), knownvalue.StringExact("docs.delete")})),
					},
				},
			},
			{
				// No permissions at all, and no diff against Unkey's [].
				Config: cfg("edits"),
				Check: func(*terraform.State) error {
					if got := rolePerms(t); len(got) != 0 {
						return fmt.Errorf("role permissions in Unkey: %v", got)
					}
					return nil
				},
			},
			{
				Config: cfg("edits in another way"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_role.test", plancheck.ResourceActionDestroyBeforeCreate)},
				},
			},
			{
				PreConfig: func() {
					if err := u.client(t).DeleteRole(context.Background(), "editor"); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg("edits in another way"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_role.test", plancheck.ResourceActionCreate)},
				},
			},
		},
	})
}

// Changing a role's description replaces it, which takes it from its keys:
// the plan warns, and a migrated key whose roles do not change loses it.
func TestAccRole_replacementWarnsThatKeysLoseIt(t *testing.T) {
	t.Parallel()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	u := startLocalUnkey(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	h := hashOf("role_replacement_key")
	cfg := func(description string) string {
		return u.migrationConfig("", map[string]string{h: "      roles = [unkey_role.test.name]"}) +
			fmt.Sprintf("resource \"unkey_role\" \"test\" {\n  name        = \"support\"\n  description = %q\n}\n", description)
	}
	w.WriteConfig(cfg("first"))
	if out, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	w.WriteConfig(cfg("second"))
	out, err := w.Run("plan")
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	if flat := strings.Join(strings.Fields(out), " "); !strings.Contains(flat, "Replacing an Unkey role takes it from its keys") ||
		!strings.Contains(flat, `role "support" is deleted and created again`) {
		t.Fatalf("the plan does not warn about the replacement:\n%s", out)
	}
	if out, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if k, _ := u.KeyByHash(h); len(k.Roles) != 0 {
		t.Fatalf("the key kept %v: the warning would be wrong", k.Roles)
	}
}

// Unkey returns a role's permissions in an order that changes between
// calls (the local API shuffles them): the resource and the data source
// must read the same value every time, or every plan would show changes.
func TestAccRole_sameValueWhateverTheOrder(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	cfg := u.providerBlock() + `
resource "unkey_role" "test" {
  name        = "lists"
  permissions = ["docs.read", "docs.write", "billing.read", "admin.all"]
}

data "unkey_role" "test" {
  name = unkey_role.test.name
}

# Changes whenever anything the data source read changes.
resource "terraform_data" "copy" {
  input = data.unkey_role.test.permissions
}
`
	again := resource.TestStep{
		Config:           cfg,
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
	}
	steps := []resource.TestStep{{
		Config: cfg,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue("data.unkey_role.test", tfjsonpath.New("permissions"), knownvalue.SetExact([]knownvalue.Check{
				knownvalue.StringExact("admin.all"), knownvalue.StringExact("billing.read"), knownvalue.StringExact("docs.read"), knownvalue.StringExact("docs.write"),
			})),
		},
	}}
	for range 4 {
		steps = append(steps, again)
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, Steps: steps})
	if n := len(u.RequestsTo("/v2/permissions.getRole")); n < 10 {
		t.Fatalf("the role was read only %d times: too few to meet Unkey's shuffled orders", n)
	}
}
