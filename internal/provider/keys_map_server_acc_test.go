package provider_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/unkeyed/terraform-provider-unkey/internal/provider"
)

// Through the real Terraform CLI, a migration's keys map is kept from the
// framework in every validation, refresh, plan and apply: its create, a plan whose keys
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
			validations, validationShortcuts := servers.ValidationCounts()
			if plans == 0 || validations == 0 || readShortcuts != reads || planShortcuts != plans || applies != wantApplies || applyShortcuts != applies || validationShortcuts != validations {
				return fmt.Errorf("%d of %d refreshes, %d of %d plans, %d of %d applies and %d of %d validations took the shortcut, want all, and %d applies",
					readShortcuts, reads, planShortcuts, plans, applyShortcuts, applies, validationShortcuts, validations, wantApplies)
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
// keysMapServer writes), every refresh and plan keeps key_ids_json from the
// framework, the plan after the create is empty, and adding a key to the
// file sends that key alone and records its key ID beside the others.
func TestAccKeysMapServerUpgradesTheState(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	dir := t.TempDir()
	keys := generatedJSONKeys("upgrade", 30)
	path := filepath.Join(dir, "keys.json")
	sha := writeKeysFile(t, path, keys)
	added := append(slices.Clone(keys), jsonKey{"hash": hashOf("upgrade_added"), "name": "added"})
	addedPath := filepath.Join(dir, "keys-added.json")
	addedSHA := writeKeysFile(t, addedPath, added)
	servers := &provider.CountingServers{}
	allShortcuts := func(*terraform.State) error {
		upgrades, shortcuts := servers.UpgradeCounts()
		if upgrades == 0 || shortcuts != upgrades {
			return fmt.Errorf("%d of %d state upgrades took the shortcut, want all, and at least one", shortcuts, upgrades)
		}
		reads, _, plans, _ := servers.Counts()
		if held := servers.HeldKeyIDsCount(); reads == 0 || plans == 0 || held != reads+plans {
			return fmt.Errorf("%d of %d refreshes and %d plans held key_ids_json from the framework, want all", held, reads, plans)
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
				Check: allShortcuts,
			},
			{
				PreConfig:         servers.Reset,
				Config:            u.fileMigrationConfig("", addedPath, addedSHA),
				ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, hashesOfJSON(added))},
				Check: func(s *terraform.State) error {
					if n := len(u.RequestsTo("/v2/keys.migrateKeys")); n != 2 {
						return fmt.Errorf("%d migrateKeys requests in all, want the create's and the added key's", n)
					}
					return allShortcuts(s)
				},
			},
		},
	})
}
