package provider_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

func identityConfig(u localUnkey, limit int) string {
	return u.providerBlock() + fmt.Sprintf(`
resource "unkey_identity" "test" {
  external_id = "acme"
  meta        = jsonencode({ plan = "pro", seats = 5 })
  ratelimits = [
    { name = "requests", limit = %d, duration = "1m", auto_apply = true },
    { name = "tokens", limit = 1000, duration = "24h" },
  ]
}
`, limit)
}

func TestAccIdentity_lifecycle(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	var id string
	getIdentity := func(t *testing.T) unkeyclient.Identity {
		got, err := u.client(t).GetIdentity(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: identityConfig(u, 100),
				Check: func(s *terraform.State) error {
					id = s.RootModule().Resources["unkey_identity.test"].Primary.ID
					got := getIdentity(t)
					if got.ID != id || got.Meta["plan"] != "pro" || len(got.Ratelimits) != 2 {
						return fmt.Errorf("in Unkey: %+v", got)
					}
					return nil
				},
			},
			{ResourceName: "unkey_identity.test", ImportState: true, ImportStateVerify: true},
			{ResourceName: "unkey_identity.test", ImportState: true, ImportStateVerify: true, ImportStateId: "acme"},
			{
				// Updated in place: the identity, and its keys' link to it, stay.
				Config: identityConfig(u, 200),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_identity.test", plancheck.ResourceActionUpdate)},
				},
				Check: func(s *terraform.State) error {
					got := getIdentity(t)
					for _, rl := range got.Ratelimits {
						if rl.Name == "requests" && rl.Limit == 200 && got.ID == id {
							return nil
						}
					}
					return fmt.Errorf("in Unkey: %+v", got)
				},
			},
			{
				// Changed in the dashboard: the plan puts it back.
				PreConfig: func() {
					if _, err := u.client(t).UpdateIdentity(context.Background(), id, map[string]any{"plan": "free"}, nil); err != nil {
						t.Fatal(err)
					}
				},
				Config: identityConfig(u, 200),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_identity.test", plancheck.ResourceActionUpdate)},
				},
				Check: func(*terraform.State) error {
					if got := getIdentity(t); got.Meta["plan"] != "pro" || len(got.Ratelimits) != 2 {
						return fmt.Errorf("not restored: %+v", got)
					}
					return nil
				},
			},
			{
				// Removing meta and ratelimits clears them in Unkey.
				Config: u.providerBlock() + `resource "unkey_identity" "test" { external_id = "acme" }`,
				Check: func(*terraform.State) error {
					if got := getIdentity(t); len(got.Meta) != 0 || len(got.Ratelimits) != 0 {
						return fmt.Errorf("not cleared: %+v", got)
					}
					return nil
				},
			},
			{
				PreConfig: func() {
					if err := u.client(t).DeleteIdentity(context.Background(), id); err != nil {
						t.Fatal(err)
					}
				},
				Config: u.providerBlock() + `resource "unkey_identity" "test" { external_id = "acme" }`,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_identity.test", plancheck.ResourceActionCreate)},
				},
			},
		},
	})
}

// A migration that names the external ID first makes Unkey create the
// identity; unkey_identity then adopts it instead of failing.
func TestAccIdentity_adoptsIdentityCreatedByMigration(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	h := hashOf("adopted_owner_key")
	migration := u.migrationConfig("", map[string]string{h: `      external_id = "acme"`})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: migration},
			{
				Config: migration + `
resource "unkey_identity" "test" {
  external_id = "acme"
  ratelimits  = [{ name = "requests", limit = 10, duration = "1s", auto_apply = true }]
}`,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_identity.test", plancheck.ResourceActionCreate)},
				},
				Check: func(s *terraform.State) error {
					k, _ := u.KeyByHash(h)
					if id := s.RootModule().Resources["unkey_identity.test"].Primary.ID; k.IdentityID != id {
						return fmt.Errorf("the migrated key's identity %q is not the adopted %q", k.IdentityID, id)
					}
					got, err := u.client(t).GetIdentity(context.Background(), "acme")
					if err != nil || len(got.Ratelimits) != 1 || got.Ratelimits[0].Limit != 10 {
						return fmt.Errorf("adopted identity not configured: %+v, %w", got, err)
					}
					return nil
				},
			},
		},
	})
}

func TestAccIdentity_invalid(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: u.providerBlock() + `
resource "unkey_identity" "test" {
  external_id = "has space"
}`,
				PlanOnly:    true,
				ExpectError: errorLike("external_id", "may contain only letters, digits and the characters _ . -"),
			},
			{
				Config: u.providerBlock() + `
resource "unkey_identity" "test" {
  external_id = "ok"
  ratelimits = [
    { name = "requests", limit = 1, duration = "1m" },
    { name = "requests", limit = 2, duration = "1m" },
  ]
}`,
				PlanOnly:    true,
				ExpectError: errorLike("Duplicate rate limit name", `"requests" is used twice`),
			},
			{
				Config: u.providerBlock() + `
resource "unkey_identity" "test" {
  external_id = "ok"
  meta        = "[1, 2]"
}`,
				PlanOnly:    true,
				ExpectError: errorLike("meta"),
			},
		},
	})
}

// Unkey returns an identity's rate limits in an order that changes between
// calls (the local API shuffles them) and meta numbers as float64 spells
// them: the resource and the data source must read the same value every
// time, or every plan would show changes.
func TestAccIdentity_sameValueWhateverTheOrder(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	cfg := u.providerBlock() + `
resource "unkey_identity" "test" {
  external_id = "lists"
  meta        = "{\"n\": 1e3, \"ratio\": 1.50, \"nested\": {\"b\": 2, \"a\": [3, 1]}}"
  ratelimits = [
    { name = "requests", limit = 100, duration = "1m", auto_apply = true },
    { name = "burst", limit = 10, duration = "1s", auto_apply = true },
    { name = "daily", limit = 10000, duration = "24h" },
    { name = "writes", limit = 5, duration = "10s" },
  ]
}

data "unkey_identity" "test" {
  id = unkey_identity.test.id
}

# Changes whenever anything the data source read changes.
resource "terraform_data" "copy" {
  input = {
    meta       = data.unkey_identity.test.meta
    ratelimits = data.unkey_identity.test.ratelimits
  }
}
`
	again := resource.TestStep{
		Config:           cfg,
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
	}
	steps := []resource.TestStep{{
		Config: cfg,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue("data.unkey_identity.test", tfjsonpath.New("meta"),
				knownvalue.StringExact(`{"n":1000,"nested":{"a":[3,1],"b":2},"ratio":1.5}`)),
			statecheck.ExpectKnownValue("data.unkey_identity.test", tfjsonpath.New("ratelimits"), knownvalue.SetSizeExact(4)),
		},
	}}
	for range 4 {
		steps = append(steps, again)
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, Steps: steps})
	if n := len(u.RequestsTo("/v2/identities.getIdentity")); n < 10 {
		t.Fatalf("the identity was read only %d times: too few to meet Unkey's shuffled orders", n)
	}
}
