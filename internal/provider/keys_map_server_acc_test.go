package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/unkeyed/terraform-provider-unkey/internal/provider"
)

// Through the real Terraform CLI, a migration whose keys did not change is
// refreshed and planned without the framework seeing its keys map, and the
// plan is empty.
func TestAccKeysMapServerTakesItsShortcuts(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	keys := generatedKeys("shortcut", 20)
	servers := &provider.CountingServers{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){"unkey": servers.Factory},
		Steps: []resource.TestStep{
			{Config: u.migrationConfig("", keys)},
			{
				PreConfig: servers.Reset,
				Config:    u.migrationConfig("", keys),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					reads, readShortcuts, plans, planShortcuts := servers.Counts()
					if reads == 0 || plans == 0 || readShortcuts != reads || planShortcuts != plans {
						return fmt.Errorf("%d of %d refreshes and %d of %d plans took the shortcut, want all of at least one each",
							readShortcuts, reads, planShortcuts, plans)
					}
					if n := len(u.RequestsTo("/v2/keys.migrateKeys")); n != 1 {
						return fmt.Errorf("%d migrateKeys requests in all, want the first apply's one", n)
					}
					return nil
				},
			},
		},
	})
}
