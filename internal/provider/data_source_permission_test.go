package provider_test

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccPermissionDataSource_byIDAndSlug(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: u.providerBlock() + `
data "unkey_permission" "x" {
  id   = "perm_1"
  slug = "nope"
}`,
				PlanOnly:    true,
				ExpectError: errorLike("Invalid Attribute Combination"),
			},
			{
				Config: u.providerBlock() + `
resource "unkey_permission" "test" {
  name        = "Read"
  slug        = "docs.read"
  description = "reads docs"
}
data "unkey_permission" "by_id" {
  id = unkey_permission.test.id
}
data "unkey_permission" "by_slug" {
  slug = unkey_permission.test.slug
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs("data.unkey_permission.by_slug", tfjsonpath.New("id"), "unkey_permission.test", tfjsonpath.New("id"), compare.ValuesSame()),
					statecheck.ExpectKnownValue("data.unkey_permission.by_id", tfjsonpath.New("slug"), knownvalue.StringExact("docs.read")),
					statecheck.ExpectKnownValue("data.unkey_permission.by_id", tfjsonpath.New("name"), knownvalue.StringExact("Read")),
					statecheck.ExpectKnownValue("data.unkey_permission.by_slug", tfjsonpath.New("description"), knownvalue.StringExact("reads docs")),
				},
			},
			{
				Config:      u.providerBlock() + `data "unkey_permission" "x" { slug = "nope" }`,
				ExpectError: errorLike("Could not read the Unkey permission", "404"),
			},
		},
	})
}
