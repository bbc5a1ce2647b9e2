package provider_test

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// The identity a migration created for its keys' owner can be read.
func TestAccIdentityDataSource_createdByMigration(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	migration := u.migrationConfig("", map[string]string{hashOf("ds_identity_key"): `      external_id = "owner-7"`})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: migration + `
data "unkey_identity" "by_external_id" {
  external_id = "owner-7"
  depends_on  = [unkey_key_migration.test]
}
data "unkey_identity" "by_id" {
  id = data.unkey_identity.by_external_id.id
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.unkey_identity.by_id", tfjsonpath.New("external_id"), knownvalue.StringExact("owner-7")),
					statecheck.ExpectKnownValue("data.unkey_identity.by_id", tfjsonpath.New("meta"), knownvalue.Null()),
					statecheck.ExpectKnownValue("data.unkey_identity.by_id", tfjsonpath.New("ratelimits"), knownvalue.SetSizeExact(0)),
				},
			},
			{
				Config: u.providerBlock() + `
resource "unkey_identity" "test" {
  external_id = "acme"
  meta        = jsonencode({ plan = "pro" })
  ratelimits  = [{ name = "requests", limit = 5, duration = "60s", auto_apply = true }]
}
data "unkey_identity" "test" {
  external_id = unkey_identity.test.external_id
}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.unkey_identity.test", tfjsonpath.New("meta"), knownvalue.StringExact(`{"plan":"pro"}`)),
					statecheck.ExpectKnownValue("data.unkey_identity.test", tfjsonpath.New("ratelimits"), knownvalue.SetExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{
							"name": knownvalue.StringExact("requests"), "limit": knownvalue.Int64Exact(5),
							"duration": knownvalue.StringExact("1m"), "auto_apply": knownvalue.Bool(true),
						}),
					})),
				},
			},
			{
				Config:      u.providerBlock() + `data "unkey_identity" "x" { external_id = "nobody" }`,
				ExpectError: errorLike("Could not read the Unkey identity", "404"),
			},
		},
	})
}
