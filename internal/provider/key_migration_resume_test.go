package provider_test

import (
	"os"
	"strings"
	"testing"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// A create that fails part-way keeps every key ID it got; the replacement
// Terraform then plans for the tainted resource is refused before anything is
// sent; after `terraform untaint`, apply sends only the pending hashes.
// terraform-plugin-testing cannot untaint, so this drives the real CLI.
func TestAccKeyMigration_createFailsThenResumes(t *testing.T) {
	t.Parallel()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	u := startLocalUnkey(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	keys := generatedKeys("resume", 50)
	w.WriteConfig(sequential(u.migrationConfig("  batch_size = 10", keys)))

	u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultStatus, Status: 403, Skip: 2, Times: 1})
	out, err := w.Run("apply", "-auto-approve")
	if err == nil {
		t.Fatalf("apply succeeded despite the refused batch:\n%s", out)
	}
	for _, want := range []string{"Key migration incomplete", "Of 50 hashes: 20 migrated", "30 still pending", "terraform untaint"} {
		if !strings.Contains(flatten(out), want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	firstIDs := w.State(migration)["key_ids"].(map[string]any)
	if len(firstIDs) != 20 {
		t.Fatalf("state holds %d key IDs after the failed create, want 20", len(firstIDs))
	}
	u.ClearFaults()

	// A plain apply plans a replacement of the tainted resource: refused.
	u.ResetRequests()
	out, err = w.Run("apply", "-auto-approve")
	if err == nil || !strings.Contains(flatten(out), "Refusing to replace an incomplete key migration") {
		t.Fatalf("apply of the tainted migration was not refused (err %v):\n%s", err, out)
	}
	if n := len(u.RequestsTo("/v2/keys.migrateKeys")); n != 0 {
		t.Fatalf("the refused replacement sent %d migrateKeys requests", n)
	}
	if got := w.State(migration)["key_ids"].(map[string]any); len(got) != 20 {
		t.Fatalf("the refused replacement changed key_ids to %d entries", len(got))
	}

	if out, err := w.Run("untaint", migration); err != nil {
		t.Fatalf("untaint: %v\n%s", err, out)
	}
	u.ResetRequests()
	if out, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("resumed apply: %v\n%s", err, out)
	}
	sent := u.migratedHashes()
	if len(sent) != 30 {
		t.Fatalf("the resumed apply sent %d hashes, want the 30 pending", len(sent))
	}
	for _, h := range sent {
		if _, done := firstIDs[h]; done {
			t.Fatalf("the resumed apply re-sent hash %s", h)
		}
	}
	ids := w.State(migration)["key_ids"].(map[string]any)
	if len(ids) != 50 {
		t.Fatalf("state holds %d key IDs, want 50", len(ids))
	}
	for h, id := range ids {
		if k, ok := u.KeyByHash(h); !ok || k.ID != id {
			t.Fatalf("key_ids[%s] = %v does not match the server", h, id)
		}
	}
	if out, err := w.Run("plan", "-detailed-exitcode"); err != nil {
		t.Fatalf("plan after the resume is not empty: %v\n%s", err, out)
	}
}

// flatten joins Terraform's wrapped diagnostic lines so phrases can be found.
func flatten(s string) string {
	s = strings.NewReplacer("│", " ", "\n", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// Refusing replacements must not make an incomplete migration impossible to
// destroy on purpose.
func TestAccKeyMigration_destroyIncompleteCreate(t *testing.T) {
	t.Parallel()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	u := startLocalUnkey(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	keys := generatedKeys("destroy_incomplete", 20)
	w.WriteConfig(u.migrationConfig("  batch_size = 10\n  deletion_policy = \"delete\"", keys))
	u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultStatus, Status: 403, Skip: 1, Times: 1})
	if out, err := w.Run("apply", "-auto-approve"); err == nil {
		t.Fatalf("apply succeeded despite the refused batch:\n%s", out)
	}
	if n := len(u.Keys(u.Seed.APIID)); n != 10 {
		t.Fatalf("%d keys migrated, want 10", n)
	}
	if out, err := w.Run("destroy", "-auto-approve"); err != nil {
		t.Fatalf("destroy of the incomplete migration failed: %v\n%s", err, out)
	}
	if n := len(u.Keys(u.Seed.APIID)); n != 0 {
		t.Fatalf("destroy under deletion_policy delete left %d keys", n)
	}
}

// The framework saves the planned private state of a failed Delete, so the
// planned_destroy flag of a destroy that failed used to outlive it and let a
// later replacement of an incomplete migration through. Here the destroy
// fails because the root key is of another workspace (nothing may be
// deleted then), and the replacement is applied without a refresh. Without
// clearing the flag in both ModifyPlan and Delete, the replacement went
// through: every key deleted and migrated again into the other API.
func TestAccKeyMigration_failedDestroyDoesNotLetAReplacementThrough(t *testing.T) {
	t.Parallel()
	u := startLocalUnkeyWithStaging(t)
	u.AddAPI(u.Seed.WorkspaceID, "api_second", "second")
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	keys := generatedKeys("failed_destroy", 50)
	cfg := sequential(u.migrationConfig("  batch_size = 10\n  deletion_policy = \"delete\"", keys))
	w.WriteConfig(cfg)
	u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultStatus, Status: 403, Skip: 2, Times: 1})
	if out, err := w.Run("apply", "-auto-approve"); err == nil {
		t.Fatalf("apply succeeded despite the refused batch:\n%s", out)
	}
	u.ClearFaults()
	if out, err := w.Run("untaint", migration); err != nil {
		t.Fatalf("untaint: %v\n%s", err, out)
	}
	keepsTheKeyIDs := func(step string) {
		t.Helper()
		ids, _ := w.State(migration)["key_ids"].(map[string]any)
		if len(ids) != 20 {
			t.Fatalf("after %s, state holds %d key IDs, want the 20 migrated", step, len(ids))
		}
		for h := range ids {
			if _, ok := u.KeyByHash(h); !ok {
				t.Fatalf("after %s, the key of hash %s is gone from the server", step, h)
			}
		}
	}

	u.ResetRequests()
	w.WriteConfig(withOtherWorkspaceRootKey(u, cfg))
	out, err := w.Run("destroy", "-auto-approve", "-refresh=false")
	if err == nil || !strings.Contains(flatten(out), "was not found with this root key") {
		t.Fatalf("destroy with the other workspace's root key did not fail on the API check (err %v):\n%s", err, out)
	}
	if n := len(u.RequestsTo("/v2/keys.deleteKey")); n != 0 {
		t.Fatalf("the destroy with the other workspace's root key sent %d keys.deleteKey requests", n)
	}
	keepsTheKeyIDs("the failed destroy")

	w.WriteConfig(strings.Replace(cfg, `api_id       = "`+u.Seed.APIID+`"`, `api_id       = "api_second"`, 1))
	out, err = w.Run("apply", "-auto-approve", "-refresh=false")
	if err == nil || !strings.Contains(flatten(out), "Refusing to replace an incomplete key migration") {
		t.Fatalf("the replacement of the incomplete migration after a failed destroy was not refused (err %v):\n%s", err, out)
	}
	if n := len(u.RequestsTo("/v2/keys.deleteKey")) + len(u.RequestsTo("/v2/keys.migrateKeys")); n != 0 {
		t.Fatalf("the refused replacement sent %d requests to delete or migrate keys", n)
	}
	keepsTheKeyIDs("the refused replacement")
}
