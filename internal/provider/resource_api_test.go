package provider_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
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

func TestAccAPI_goneIsRemovedFromState(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	cfg := u.providerBlock() + `resource "unkey_api" "test" { name = "vanishing" }`
	var first string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(s *terraform.State) error {
					first = s.RootModule().Resources["unkey_api.test"].Primary.ID
					return nil
				},
			},
			{
				PreConfig: func() { u.deleteAPI(t, first) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_api.test", plancheck.ResourceActionCreate)},
				},
			},
		},
	})
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
