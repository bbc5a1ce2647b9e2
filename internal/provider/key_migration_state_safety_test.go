package provider_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	journal "github.com/unkeyed/terraform-provider-unkey/internal/migration"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// otherWorkspaceRootKey is a root key of a second workspace, as a staging
// root key would be in a production pipeline. A fake, local credential.
const otherWorkspaceRootKey = "unkey_local_root_staging_Xq7Lm2Vw9Rt4Yp8Kd"

// withOtherWorkspaceRootKey gives a config's provider the root key of
// another workspace.
func withOtherWorkspaceRootKey(u localUnkey, cfg string) string {
	return strings.Replace(cfg, fmt.Sprintf("root_key = %q", u.Seed.RootKey), fmt.Sprintf("root_key = %q", otherWorkspaceRootKey), 1)
}

// requireKeyIDs fails the test unless the state's key_ids are exactly want.
func requireKeyIDs(t *testing.T, w *acctest.Workdir, want map[string]any, step string) {
	t.Helper()
	got := stateKeyIDs(t, w)
	if len(got) != len(want) {
		t.Fatalf("after %s: %d key IDs in state, want all %d", step, len(got), len(want))
	}
	for h, id := range want {
		if got[h] != id {
			t.Fatalf("after %s: key_ids[%s] = %v, want %v", step, h, got[h], id)
		}
	}
}

// stateKeyIDs reads key_ids from a Workdir's state.
func stateKeyIDs(t *testing.T, w *acctest.Workdir) map[string]any {
	t.Helper()
	st := w.State(migration)
	if st == nil {
		t.Fatalf("%s is no longer in state", migration)
	}
	ids, _ := st["key_ids"].(map[string]any)
	return ids
}

// Unkey answers an API of another workspace exactly like a deleted one. A
// root key of the wrong workspace must neither drop the migration from state
// nor let an apply send, change or delete anything; back with the right
// root key, nothing has changed.
func TestAccKeyMigration_rootKeyOfAnotherWorkspace(t *testing.T) {
	t.Parallel()
	u := startLocalUnkeyWithStaging(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	keys := generatedKeys("foreign", 20)
	hashes := sortedHashes(keys)
	cfg := func(keys map[string]string) string {
		return u.migrationConfig(`  deletion_policy = "delete"`, keys)
	}
	w.WriteConfig(cfg(keys))
	if o, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply with the workspace's root key: %v\n%s", err, o)
	}
	want := stateKeyIDs(t, w)
	if len(want) != len(keys) {
		t.Fatalf("%d key IDs after the create, want %d", len(want), len(keys))
	}
	keepsEveryKeyID := func(step string) {
		t.Helper()
		requireKeyIDs(t, w, want, step)
	}
	explains := func(step, out string, parts ...string) {
		t.Helper()
		flat := flatten(out)
		for _, p := range append([]string{"The API " + u.Seed.APIID + " was not found with this root key", "another workspace", "was deleted", "terraform state rm", "removed"}, parts...) {
			if !strings.Contains(flat, p) {
				t.Errorf("%s does not say %q:\n%s", step, p, out)
			}
		}
		if strings.Contains(out, otherWorkspaceRootKey) {
			t.Errorf("%s prints the root key", step)
		}
	}

	u.ResetRequests()
	fewer := merge(keys)
	delete(fewer, hashes[0])
	w.WriteConfig(withOtherWorkspaceRootKey(u, cfg(fewer)))
	o, err := w.Run("apply", "-auto-approve", "-refresh=false")
	if err == nil {
		t.Fatalf("an apply removing a hash under deletion_policy = \"delete\" with the other workspace's root key succeeded:\n%s", o)
	}
	// Without a refresh, the plan-time check of the API stands in the way
	// (keys.deleteKey would take a 404 as already deleted).
	explains("the apply removing a hash without a refresh", o, "Error: Unkey API not found with this root key", "Nothing was sent to Unkey")
	keepsEveryKeyID("a refused removal without a refresh")
	if _, ok := u.KeyByHash(hashes[0]); !ok {
		t.Fatal("the key of the removed hash was deleted")
	}
	w.WriteConfig(withOtherWorkspaceRootKey(u, cfg(keys)))
	o, err = w.Run("plan", "-detailed-exitcode")
	if err != nil {
		t.Fatalf("plan with the other workspace's root key is not an empty plan: %v\n%s", err, o)
	}
	explains("the plan", o, "Warning: Unkey API not found")
	// An apply with nothing to change saves the refreshed state: this is
	// where the migration used to be dropped.
	if o, err = w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply of an unchanged configuration: %v\n%s", err, o)
	}
	explains("the unchanged apply", o)
	keepsEveryKeyID("an apply with the other workspace's root key")

	more := merge(keys, generatedKeys("foreign_more", 5))
	w.WriteConfig(withOtherWorkspaceRootKey(u, cfg(more)))
	if o, err = w.Run("apply", "-auto-approve"); err == nil {
		t.Fatalf("an apply adding hashes with the other workspace's root key succeeded:\n%s", o)
	}
	explains("the apply adding hashes", o, "Error: Unkey API not found", "Nothing was sent to Unkey")
	keepsEveryKeyID("a refused apply adding hashes")

	for _, path := range []string{"/v2/keys.migrateKeys", "/v2/keys.updateKey", "/v2/keys.deleteKey"} {
		if n := len(u.RequestsTo(path)); n != 0 {
			t.Errorf("%d requests to %s with the other workspace's root key", n, path)
		}
	}

	w.WriteConfig(cfg(keys))
	if o, err := w.Run("plan", "-detailed-exitcode"); err != nil {
		t.Fatalf("back with the workspace's root key, the plan is not empty: %v\n%s", err, o)
	} else if strings.Contains(o, "Unkey API not found") {
		t.Errorf("back with the workspace's root key, the plan still warns:\n%s", o)
	}
}

// A migrated key deleted outside Terraform, then changed in the
// configuration: the error names the hash, both causes and the way out, the
// counts add up, nothing is lost; removing the hash (the way out) works,
// under deletion_policy = "delete" too.
func TestAccKeyMigration_keyDeletedOutsideTerraform(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	keys := generatedKeys("deleted_outside", 3)
	hashes := sortedHashes(keys)
	gone := hashes[1]
	renamed := merge(keys, map[string]string{gone: `      name = "renamed"`})
	without := merge(keys)
	delete(without, gone)
	cfg := func(keys map[string]string) string { return u.migrationConfig(`  deletion_policy = "delete"`, keys) }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg(keys), ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, hashes)}},
			{
				PreConfig: func() {
					k, _ := u.KeyByHash(gone)
					if err := u.client(t).DeleteKey(context.Background(), k.ID); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg(renamed),
				ExpectError: errorLike("Key migration update incomplete", gone, "404",
					"Unkey has no key", "for hash", gone, "with this root key",
					"deleted outside Terraform", "remove the hash", gone, "from the configuration and apply",
					"another workspace", "configure the root key of the workspace that holds", u.Seed.APIID, "the first is the likely cause",
					"Of 3 hashes: 3 migrated", "0 failed as already existing, 0 unconfirmed, 0 still pending"),
			},
			{
				// The failed apply kept every key ID; the way out forgets the
				// deleted key's hash and keeps the others.
				Config: cfg(without),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(migration, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, []string{hashes[0], hashes[2]})},
			},
			{Config: cfg(without), PlanOnly: true},
		},
	})
}

// The journal lives in Terraform's data directory, wherever TF_DATA_DIR puts
// it; where it cannot be written, the apply says so instead of only logging.
func TestAccKeyMigration_journalDirectory(t *testing.T) {
	t.Parallel()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	u := startLocalUnkey(t)
	plugins := acctest.BuildProvider(t)
	keys := generatedKeys("journal_dir", 5)

	w := acctest.NewWorkdir(t, plugins)
	data := filepath.Join(t.TempDir(), "tfdata")
	w.SetEnv(journal.DirEnv, "")
	w.SetEnv("TF_DATA_DIR", data)
	w.WriteConfig(u.migrationConfig("", keys))
	if o, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, o)
	}
	file := journal.For(filepath.Join(data, "unkey-journal"), u.URL, u.Seed.MigrationID, u.Seed.APIID).Path()
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("no journal in TF_DATA_DIR after the apply: %v", err)
	}
	if _, err := os.Stat(filepath.Join(w.Dir, ".terraform", "unkey-journal")); !os.IsNotExist(err) {
		t.Fatalf("a journal in ./.terraform although TF_DATA_DIR is set: %v", err)
	}
	if o, err := w.Run("plan", "-detailed-exitcode"); err != nil {
		t.Fatalf("plan: %v\n%s", err, o)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("the journal is still there once the state holds everything: %v", err)
	}

	blocked := acctest.NewWorkdir(t, plugins)
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	blocked.SetEnv(journal.DirEnv, filepath.Join(notADir, "journal"))
	blocked.WriteConfig(u.migrationConfig("", generatedKeys("journal_blocked", 5)))
	o, err := blocked.Run("apply", "-auto-approve")
	if err != nil {
		t.Fatalf("apply with an unwritable journal: %v\n%s", err, o)
	}
	if !strings.Contains(flatten(o), "Warning: The migration journal could not be written") || !strings.Contains(flatten(o), "safety net was off") {
		t.Errorf("the apply did not warn that the journal could not be written:\n%s", o)
	}

	// A journal that exists but cannot be read may hold key IDs: nothing is
	// sent until it can be.
	unreadable := acctest.NewWorkdir(t, plugins)
	dir := t.TempDir()
	unreadable.SetEnv(journal.DirEnv, dir)
	if err := os.Mkdir(journal.For(dir, u.URL, u.Seed.MigrationID, u.Seed.APIID).Path(), 0o700); err != nil {
		t.Fatal(err)
	}
	unreadable.WriteConfig(u.migrationConfig("", generatedKeys("journal_unreadable", 5)))
	u.ResetRequests()
	o, err = unreadable.Run("apply", "-auto-approve")
	if err == nil || !strings.Contains(flatten(o), "reading the migration journal") || !strings.Contains(flatten(o), "nothing was sent") {
		t.Errorf("an apply with an unreadable journal did not stop (err %v):\n%s", err, o)
	}
	if n := len(u.RequestsTo("/v2/keys.migrateKeys")); n != 0 {
		t.Errorf("%d migrateKeys requests with an unreadable journal", n)
	}
}

// An answer of apis.getApi that cannot be read fails the refresh and keeps
// the state as it was; nothing is removed.
func TestAccKeyMigration_unreadableRefreshKeepsState(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	keys := generatedKeys("unreadable_refresh", 5)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: u.migrationConfig("", keys)},
			{
				PreConfig: func() {
					u.InjectFault(unkeylocal.Fault{Path: "/v2/apis.getApi", Kind: unkeylocal.FaultRawResponse, Status: 200, ContentType: "text/html", Body: []byte("<html>maintenance</html>")})
				},
				Config:      u.migrationConfig("", keys),
				ExpectError: errorLike("Could not read the Unkey API", "is kept as it was, with every key ID"),
			},
			{
				PreConfig:         u.ClearFaults,
				Config:            u.migrationConfig("", keys),
				ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, sortedHashes(keys))},
			},
			{Config: u.migrationConfig("", keys), PlanOnly: true},
		},
	})
}

// A hash sent in a request whose answer was lost, then removed from the
// configuration: Unkey may hold a key for it that the provider cannot find
// or delete. That used to be forgotten without a word.
func TestAccKeyMigration_unansweredHashRemovedWarns(t *testing.T) {
	t.Parallel()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	u := startLocalUnkey(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	first := generatedKeys("unanswered_first", 5)
	more := generatedKeys("unanswered_more", 30)
	moreHashes := sortedHashes(more)
	cfg := func(keys map[string]string) string {
		return sequential(withProviderSettings(u.migrationConfig("  batch_size = 10\n  deletion_policy = \"delete\"", keys), `  retry_timeout = "1s"`))
	}
	w.WriteConfig(cfg(first))
	if o, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("create: %v\n%s", err, o)
	}
	w.WriteConfig(cfg(merge(first, more)))
	u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultDropAfterProcessing, Skip: 1})
	if o, err := w.Run("apply", "-auto-approve"); err == nil || !strings.Contains(flatten(o), "in a request whose answer was lost") {
		t.Fatalf("the update whose answers were lost did not fail as expected (err %v):\n%s", err, o)
	}
	u.ClearFaults()

	lost := moreHashes[10:20]
	kept := merge(more)
	for _, h := range lost {
		delete(kept, h)
	}
	w.WriteConfig(cfg(merge(first, kept)))
	o, err := w.Run("apply", "-auto-approve")
	if err != nil {
		t.Fatalf("apply removing the unanswered hashes: %v\n%s", err, o)
	}
	flat := flatten(o)
	for _, want := range []string{"Warning: Removed hashes may have keys in Unkey", "10 hashes removed from the configuration were sent in a request whose answer was lost",
		"whatever deletion_policy says", lost[0], lost[9]} {
		if !strings.Contains(flat, want) {
			t.Errorf("the apply does not say %q:\n%s", want, o)
		}
	}
	if o, err := w.Run("plan", "-detailed-exitcode"); err != nil || strings.Contains(o, "Removed hashes may have keys") {
		t.Fatalf("the plan after the removal is not empty and quiet (err %v):\n%s", err, o)
	}
}

// A replacement planned while the API was seen, applied after it vanished
// (a saved plan): the Delete half refuses, so deletion_policy = "abandon"
// does not forget the key IDs on a 404 that proves nothing.
func TestAccKeyMigration_replacementRefusedOnceTheAPIIsNotFound(t *testing.T) {
	t.Parallel()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	u := startLocalUnkey(t)
	u.AddAPI(u.Seed.WorkspaceID, "api_second", "second")
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	cfg := u.migrationConfig("", generatedKeys("replaced_unseen", 3))
	w.WriteConfig(cfg)
	if o, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, o)
	}
	w.WriteConfig(strings.Replace(cfg, `api_id       = "`+u.Seed.APIID+`"`, `api_id       = "api_second"`, 1))
	if o, err := w.Run("plan", "-out", "replace.tfplan"); err != nil {
		t.Fatalf("plan of the replacement: %v\n%s", err, o)
	}
	u.deleteAPI(t, u.Seed.APIID)
	u.ResetRequests()
	o, err := w.Run("apply", "replace.tfplan")
	if err == nil || !strings.Contains(flatten(o), "Refusing to replace a key migration whose API the root key does not see") {
		t.Fatalf("the saved replacement was not refused once the API is not found (err %v):\n%s", err, o)
	}
	for _, p := range []string{"would forget the key IDs", "another workspace", "terraform state rm", "3 key IDs"} {
		if !strings.Contains(flatten(o), p) {
			t.Errorf("the refusal does not say %q:\n%s", p, o)
		}
	}
	if n := len(u.RequestsTo("/v2/keys.migrateKeys")); n != 0 {
		t.Errorf("the refused replacement sent %d keys.migrateKeys requests", n)
	}
	if ids := stateKeyIDs(t, w); len(ids) != 3 {
		t.Fatalf("state holds %d key IDs after the refused replacement, want 3", len(ids))
	}
}
