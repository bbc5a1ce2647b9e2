package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// Unkey returns a key's roles, permissions and rate limits in an order that
// changes between calls, and meta numbers as float64 spells them; the local
// API does the same. Reading the data source again must give the very same
// value, or everything built from it would change on every plan.
func TestAccKeyDataSource_sameValueWhateverTheOrder(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	h := hashOf("data_source_lists_key")
	cfg := u.migrationConfig("", map[string]string{h: `
      roles       = ["reader", "writer", "billing", "admin"]
      permissions = ["docs.read", "docs.write", "billing.read", "admin.all"]
      meta        = "{\"n\": 1e3, \"ratio\": 1.50, \"nested\": {\"b\": 2, \"a\": [3, 1]}}"
      ratelimits = [
        { name = "requests", limit = 100, duration = "1m", auto_apply = true },
        { name = "burst", limit = 10, duration = "1s", auto_apply = true },
        { name = "daily", limit = 10000, duration = "24h", auto_apply = false },
        { name = "writes", limit = 5, duration = "10s", auto_apply = false },
      ]`}) + fmt.Sprintf(`
data "unkey_key" "test" {
  key_id = unkey_key_migration.test.key_ids[%q]
}

# Changes whenever anything the data source read changes.
resource "terraform_data" "copy" {
  input = {
    roles       = data.unkey_key.test.roles
    permissions = data.unkey_key.test.permissions
    ratelimits  = data.unkey_key.test.ratelimits
    meta        = data.unkey_key.test.meta
  }
}
`, h)
	rl := func(name string, limit int64, duration string, autoApply bool) knownvalue.Check {
		return knownvalue.ObjectExact(map[string]knownvalue.Check{
			"name": knownvalue.StringExact(name), "limit": knownvalue.Int64Exact(limit),
			"duration": knownvalue.StringExact(duration), "auto_apply": knownvalue.Bool(autoApply),
		})
	}
	// Every step reads the key again (at plan and at apply) and must find
	// nothing to change.
	again := resource.TestStep{
		Config:           cfg,
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
	}
	steps := []resource.TestStep{{
		Config: cfg,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue("data.unkey_key.test", tfjsonpath.New("ratelimits"), knownvalue.ListExact([]knownvalue.Check{
				// By name, whatever order Unkey answers in.
				rl("burst", 10, "1s", true), rl("daily", 10000, "24h0m0s", false), rl("requests", 100, "1m0s", true), rl("writes", 5, "10s", false),
			})),
			statecheck.ExpectKnownValue("data.unkey_key.test", tfjsonpath.New("roles"), knownvalue.SetExact([]knownvalue.Check{
				knownvalue.StringExact("admin"), knownvalue.StringExact("billing"), knownvalue.StringExact("reader"), knownvalue.StringExact("writer"),
			})),
			statecheck.ExpectKnownValue("data.unkey_key.test", tfjsonpath.New("permissions"), knownvalue.SetSizeExact(4)),
			statecheck.ExpectKnownValue("data.unkey_key.test", tfjsonpath.New("meta"),
				knownvalue.StringExact(`{"n":1000,"nested":{"a":[3,1],"b":2},"ratio":1.5}`)),
		},
	}}
	for range 4 {
		steps = append(steps, again)
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, Steps: steps})
	if n := len(u.RequestsTo("/v2/keys.getKey")); n < 10 {
		t.Fatalf("the key was read only %d times: too few to meet Unkey's shuffled orders", n)
	}
}
