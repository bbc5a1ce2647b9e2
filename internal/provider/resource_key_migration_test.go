package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

const migration = "unkey_key_migration.test"

// stateCheck adapts a function to statecheck.StateCheck.
type stateCheck func(*tfjson.StateResource) error

func (f stateCheck) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	for _, r := range req.State.Values.RootModule.Resources {
		if r.Address == migration {
			resp.Error = f(r)
			return
		}
	}
	resp.Error = fmt.Errorf("%s not in state", migration)
}

// keyIDsOf reads the key IDs from state: key_ids, or key_ids_json for a
// migration given keys_json.
func keyIDsOf(r *tfjson.StateResource) map[string]string {
	out := map[string]string{}
	if doc, ok := r.AttributeValues["key_ids_json"].(string); ok {
		_ = json.Unmarshal([]byte(doc), &out)
		return out
	}
	m, _ := r.AttributeValues["key_ids"].(map[string]any)
	for h, id := range m {
		out[h], _ = id.(string)
	}
	return out
}

// keyIDsMatchServer checks that state holds exactly the expected hashes and
// that each key ID is the one the server gave that hash.
func keyIDsMatchServer(u localUnkey, want []string) stateCheck {
	return func(r *tfjson.StateResource) error {
		got := keyIDsOf(r)
		if len(got) != len(want) {
			return fmt.Errorf("key_ids has %d entries, want %d", len(got), len(want))
		}
		for _, h := range want {
			k, ok := u.KeyByHash(h)
			if !ok {
				return fmt.Errorf("server has no key for hash %s", h)
			}
			if got[h] != k.ID {
				return fmt.Errorf("key_ids[%s] = %q, server says %q", h, got[h], k.ID)
			}
		}
		return nil
	}
}

func sortedHashes(keys map[string]string) []string {
	out := make([]string, 0, len(keys))
	for h := range keys {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

// sentExactly asserts the migrateKeys requests since the last reset carried
// exactly these hashes, each once.
func sentExactly(t *testing.T, u localUnkey, want []string) {
	t.Helper()
	got := u.migratedHashes()
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("server received %d hashes in migrateKeys, want %d (got %v, want %v)", len(got), len(want), abbreviate(got), abbreviate(want))
	}
}

func abbreviate(s []string) string {
	if len(s) > 6 {
		return fmt.Sprintf("%v … (%d)", s[:6], len(s))
	}
	return fmt.Sprint(s)
}

func TestAccKeyMigration_lifecycle(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	keys := generatedKeys("life", 250)
	extra := hashOf("life_extra_key")
	withExtra := merge(keys, map[string]string{extra: `      name = "extra"`})
	hashes := sortedHashes(keys)
	changed := hashes[7]
	updated := merge(withExtra, map[string]string{changed: `
      name        = "renamed"
      roles       = ["admin"]
      meta        = jsonencode({ plan = "pro" })
      expires     = "2030-01-01T00:00:00Z"`})
	removed := hashes[3]
	// Updates only assign existing roles, as in Unkey.
	u.AddRole(u.Seed.WorkspaceID, "admin")
	withoutOne := merge(updated)
	delete(withoutOne, removed)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: u.migrationConfig("", keys),
				ConfigStateChecks: []statecheck.StateCheck{
					keyIDsMatchServer(u, hashes),
					statecheck.ExpectKnownValue(migration, tfjsonpath.New("failed_hashes"), knownvalue.SetSizeExact(0)),
					statecheck.ExpectKnownValue(migration, tfjsonpath.New("id"), knownvalue.StringExact(u.Seed.MigrationID+"/"+u.Seed.APIID)),
				},
				Check: func(*terraform.State) error {
					sentExactly(t, u, hashes)
					reqs := u.RequestsTo("/v2/keys.migrateKeys")
					if n := len(reqs); n != 1 {
						return fmt.Errorf("250 keys at the default batch size of 500 took %d requests, want 1", n)
					}
					if ua := reqs[0].UserAgent; !strings.HasPrefix(ua, "terraform-provider-unkey/test Terraform/1.") {
						return fmt.Errorf("User-Agent %q does not name the provider, its version and Terraform's", ua)
					}
					return nil
				},
			},
			{
				// Unchanged configuration: nothing to do, and no per-key reads.
				PreConfig: u.ResetRequests,
				Config:    u.migrationConfig("", keys),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					for _, r := range u.Requests() {
						if r.Path != "/v2/apis.getApi" {
							return fmt.Errorf("an unchanged plan called %s", r.Path)
						}
					}
					return nil
				},
			},
			{
				PreConfig: u.ResetRequests,
				Config:    u.migrationConfig("", withExtra),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(migration, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(migration, tfjsonpath.New("key_ids")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, append(slices.Clone(hashes), extra))},
				Check: func(*terraform.State) error {
					sentExactly(t, u, []string{extra})
					return nil
				},
			},
			{
				// Settings of one migrated key: that key alone is updated,
				// and the plan knows key_ids will not change.
				PreConfig: u.ResetRequests,
				Config:    u.migrationConfig("", updated),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(migration, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(migration, tfjsonpath.New("key_ids"), knownvalue.MapSizeExact(251)),
					},
				},
				Check: func(*terraform.State) error {
					k, _ := u.KeyByHash(changed)
					for _, r := range u.Requests() {
						if r.Path == "/v2/apis.getApi" {
							continue
						}
						if r.KeyID != k.ID {
							return fmt.Errorf("%s touched key %s, want only %s", r.Path, r.KeyID, k.ID)
						}
					}
					if len(u.RequestsTo("/v2/keys.updateKey")) != 1 || len(u.RequestsTo("/v2/keys.setRoles")) != 1 || len(u.RequestsTo("/v2/keys.setPermissions")) != 0 {
						return fmt.Errorf("want one updateKey and one setRoles, got %v", paths(u.Requests()))
					}
					if k.Name != "renamed" || !slices.Equal(k.Roles, []string{"admin"}) || k.Expires == nil || *k.Expires != 1893456000000 || k.Meta["plan"] != "pro" {
						return fmt.Errorf("server key not updated: %+v", k)
					}
					return nil
				},
			},
			{
				// Clearing settings sends them as null.
				PreConfig: u.ResetRequests,
				Config:    u.migrationConfig("", merge(updated, map[string]string{changed: `      name = "renamed"`})),
				Check: func(*terraform.State) error {
					k, _ := u.KeyByHash(changed)
					if k.Expires != nil || len(k.Roles) != 0 || len(k.Meta) != 0 {
						return fmt.Errorf("settings not cleared: %+v", k)
					}
					return nil
				},
			},
			{
				// Removing a hash under the default policy only forgets it.
				PreConfig: u.ResetRequests,
				Config:    u.migrationConfig("", withoutOne),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migration, tfjsonpath.New("key_ids"), knownvalue.MapSizeExact(250)),
				},
				Check: func(*terraform.State) error {
					if k, ok := u.KeyByHash(removed); !ok || k.Deleted {
						return fmt.Errorf("deletion_policy abandon deleted the key of a removed hash")
					}
					if n := len(u.RequestsTo("/v2/keys.deleteKey")); n != 0 {
						return fmt.Errorf("deleteKey called %d times under abandon", n)
					}
					return nil
				},
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if len(u.Keys(u.Seed.APIID)) != 251 {
				return fmt.Errorf("destroy under deletion_policy abandon deleted keys: %d left", len(u.Keys(u.Seed.APIID)))
			}
			return nil
		},
	})
}

func paths(reqs []unkeylocal.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Path)
	}
	return out
}

func TestAccKeyMigration_deletePolicy(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	keys := generatedKeys("del", 5)
	hashes := sortedHashes(keys)
	fewer := merge(keys)
	delete(fewer, hashes[0])
	attrs := `  deletion_policy = "delete"`

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: u.migrationConfig(attrs, keys)},
			{
				Config: u.migrationConfig(attrs, fewer),
				Check: func(*terraform.State) error {
					if _, ok := u.KeyByHash(hashes[0]); ok {
						return fmt.Errorf("the key of the removed hash still exists: it should be deleted permanently")
					}
					if n := len(u.Keys(u.Seed.APIID)); n != 4 {
						return fmt.Errorf("%d keys left, want 4", n)
					}
					return nil
				},
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if n := len(u.Keys(u.Seed.APIID)); n != 0 {
				return fmt.Errorf("destroy under deletion_policy delete left %d keys", n)
			}
			for _, h := range hashes {
				if _, ok := u.KeyByHash(h); ok {
					return fmt.Errorf("hash %s still blocked after a permanent delete", h)
				}
			}
			return nil
		},
	})
}

func TestAccKeyMigration_failedHashes(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	keys := generatedKeys("dup", 4)
	hashes := sortedHashes(keys)
	// Another migration already holds one of the hashes.
	other := u.migrationConfig("", map[string]string{hashes[2]: `      name = "earlier"`})
	other = strings.Replace(other, `resource "unkey_key_migration" "test"`, `resource "unkey_key_migration" "earlier"`, 1)
	both := other + strings.TrimPrefix(u.migrationConfig("", keys), u.providerBlock())

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: other},
			{
				Config: both,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migration, tfjsonpath.New("failed_hashes"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact(hashes[2])})),
					statecheck.ExpectKnownValue(migration, tfjsonpath.New("key_ids"), knownvalue.MapSizeExact(3)),
					statecheck.ExpectKnownValue(migration, tfjsonpath.New("unconfirmed_hashes"), knownvalue.SetSizeExact(0)),
				},
			},
		},
	})
}

// A create that fails part-way keeps every key ID, refuses the replacement
// that Terraform plans for the tainted resource, and never re-sends a hash.
func TestAccKeyMigration_updateFailsThenResumes(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	first := generatedKeys("upd", 10)
	more := generatedKeys("upd_more", 50)
	all := merge(first, more)
	attrs := `  batch_size = 10`

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: sequential(u.migrationConfig(attrs, first))},
			{
				PreConfig: func() {
					u.ResetRequests()
					// The third batch of the update is refused for good.
					u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultStatus, Status: 403, Skip: 2, Times: 1})
				},
				Config:      sequential(u.migrationConfig(attrs, all)),
				ExpectError: errorLike("Key migration update incomplete", "Of 60 hashes: 30 migrated", "30 still pending", "run `terraform apply` again"),
			},
			{
				PreConfig: func() {
					u.ClearFaults()
					u.ResetRequests()
				},
				Config:            sequential(u.migrationConfig(attrs, all)),
				ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, sortedHashes(all))},
				Check: func(*terraform.State) error {
					// Only the 30 hashes that were never answered are sent.
					if got := len(u.migratedHashes()); got != 30 {
						return fmt.Errorf("the resumed apply sent %d hashes, want the 30 pending ones", got)
					}
					for _, h := range u.migratedHashes() {
						if _, inFirst := first[h]; inFirst {
							return fmt.Errorf("re-sent hash %s", h)
						}
					}
					return nil
				},
			},
		},
	})
}

// An API deleted outside Terraform looks to Unkey's answer exactly like an
// API of another workspace, so the refresh keeps the migration and every key
// ID, and warns; letting go is the user's deliberate act (state rm here; a
// removed block on Terraform 1.7+).
func TestAccKeyMigration_apiDeletedOutsideTerraform(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	t.Parallel()
	u := startLocalUnkey(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	w.WriteConfig(u.migrationConfig("", generatedKeys("gone", 3)))
	if o, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, o)
	}
	u.deleteAPI(t, u.Seed.APIID)
	o, err := w.Run("apply", "-auto-approve")
	if err != nil {
		t.Fatalf("an unchanged apply after the API was deleted: %v\n%s", err, o)
	}
	for _, want := range []string{"Warning: Unkey API not found with this root key", "another workspace", "The API was deleted", "terraform state rm"} {
		if !strings.Contains(flatten(o), want) {
			t.Errorf("the apply does not say %q:\n%s", want, o)
		}
	}
	if ids := stateKeyIDs(t, w); len(ids) != 3 {
		t.Fatalf("state holds %d key IDs after the refresh, want 3", len(ids))
	}
	if o, err := w.Command("state", "rm", migration).CombinedOutput(); err != nil {
		t.Fatalf("state rm: %v\n%s", err, o)
	}
	// Created again, it would find no API either: the plan-time check says so.
	o, err = w.Run("plan")
	if err == nil {
		t.Fatalf("after state rm, a plan to create the migration into a deleted API succeeded:\n%s", o)
	}
	for _, want := range []string{"API not found with this root key", "the API was deleted", "another Unkey workspace"} {
		if !strings.Contains(flatten(o), want) {
			t.Errorf("the plan after state rm does not say %q:\n%s", want, o)
		}
	}
}
