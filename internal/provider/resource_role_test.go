package provider_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccRole_lifecycle(t *testing.T) {
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
