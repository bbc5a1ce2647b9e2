package provider_test

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccRoleDataSource_byIDAndName(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: u.providerBlock() + `
resource "unkey_role" "test" {
  name        = "support"
  permissions = ["tickets.read", "users.read"]
}
data "unkey_role" "by_id" {
  id = unkey_role.test.id
}
data "unkey_role" "by_name" {
  name = unkey_role.test.name
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs("data.unkey_role.by_name", tfjsonpath.New("id"), "unkey_role.test", tfjsonpath.New("id"), compare.ValuesSame()),
					statecheck.ExpectKnownValue("data.unkey_role.by_id", tfjsonpath.New("name"), knownvalue.StringExact("support")),
					statecheck.ExpectKnownValue("data.unkey_role.by_id", tfjsonpath.New("description"), knownvalue.Null()),
					statecheck.ExpectKnownValue("data.unkey_role.by_name", tfjsonpath.New("permissions"),
						knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("tickets.read"), knownvalue.StringExact("users.read")})),
				},
			},
			{
				Config:      u.providerBlock() + `data "unkey_role" "x" { name = "nope" }`,
				ExpectError: errorLike("Could not read the Unkey role", "404"),
			},
		},
	})
}
