package provider_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/unkeyed/terraform-provider-unkey/internal/provider"
)

// Through the real Terraform CLI, a migration's keys map is kept from the
// framework in every refresh, plan and apply: its create, a plan whose keys
// did not change (which is empty), and an apply that adds one key and
// changes another, each sending only what it must.
func TestAccKeysMapServerTakesItsShortcuts(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	keys := generatedKeys("shortcut", 20)
	changed := merge(keys, generatedKeys("shortcut_added", 1))
	changed[sortedHashes(keys)[3]] = `      name = "renamed"`
	servers := &provider.CountingServers{}
	allShortcuts := func(wantApplies int64) func(*terraform.State) error {
		return func(*terraform.State) error {
			reads, readShortcuts, plans, planShortcuts := servers.Counts()
			applies, applyShortcuts := servers.ApplyCounts()
			if plans == 0 || readShortcuts != reads || planShortcuts != plans || applies != wantApplies || applyShortcuts != applies {
				return fmt.Errorf("%d of %d refreshes, %d of %d plans and %d of %d applies took the shortcut, want all, and %d applies",
					readShortcuts, reads, planShortcuts, plans, applyShortcuts, applies, wantApplies)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){"unkey": servers.Factory},
		Steps: []resource.TestStep{
			{
				Config: u.migrationConfig("", keys),
				Check: resource.ComposeTestCheckFunc(allShortcuts(1),
					resource.TestCheckResourceAttr("unkey_key_migration.test", "key_ids.%", "20"),
					resource.TestCheckResourceAttr("unkey_key_migration.test", "keys.%", "20")),
			},
			{
				PreConfig: servers.Reset,
				Config:    u.migrationConfig("", keys),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(s *terraform.State) error {
					if reads, _, _, _ := servers.Counts(); reads == 0 {
						return fmt.Errorf("no refresh")
					}
					if n := len(u.RequestsTo("/v2/keys.migrateKeys")); n != 1 {
						return fmt.Errorf("%d migrateKeys requests in all, want the first apply's one", n)
					}
					return allShortcuts(0)(s)
				},
			},
			{
				PreConfig: servers.Reset,
				Config:    u.migrationConfig("", changed),
				Check: resource.ComposeTestCheckFunc(allShortcuts(1),
					resource.TestCheckResourceAttr("unkey_key_migration.test", "key_ids.%", "21"),
					resource.TestCheckResourceAttr("unkey_key_migration.test", "keys.%", "21"),
					resource.TestCheckResourceAttr("unkey_key_migration.test", "change_summary", "1 to migrate, 1 to update, 0 to remove"),
					func(*terraform.State) error {
						if n, m := len(u.RequestsTo("/v2/keys.migrateKeys")), len(u.RequestsTo("/v2/keys.updateKey")); n != 2 || m != 1 {
							return fmt.Errorf("%d migrateKeys and %d updateKey requests in all, want 2 and 1", n, m)
						}
						return nil
					}),
			},
		},
	})
}

// Through the real Terraform CLI, every stored state of a keys_file
// migration is upgraded without the framework (Terraform reads the msgpack
// keysMapServer writes), and the plan after the create is empty.
func TestAccKeysMapServerUpgradesTheState(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	path := filepath.Join(t.TempDir(), "keys.json")
	sha := writeKeysFile(t, path, generatedJSONKeys("upgrade", 30))
	servers := &provider.CountingServers{}
	allUpgradesShortcut := func(*terraform.State) error {
		if upgrades, shortcuts := servers.UpgradeCounts(); upgrades == 0 || shortcuts != upgrades {
			return fmt.Errorf("%d of %d state upgrades took the shortcut, want all, and at least one", shortcuts, upgrades)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){"unkey": servers.Factory},
		Steps: []resource.TestStep{
			{
				Config: u.fileMigrationConfig("", path, sha),
				Check:  resource.TestCheckResourceAttr("unkey_key_migration.test", "keys_file_sha256", sha),
			},
			{
				PreConfig: servers.Reset,
				Config:    u.fileMigrationConfig("", path, sha),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: allUpgradesShortcut,
			},
		},
	})
}
