package provider_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// waitForRequests polls until the server has seen n requests to path.
func waitForRequests(t *testing.T, u localUnkey, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(u.RequestsTo(path)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the server saw %d requests to %s, waited for %d", len(u.RequestsTo(path)), path, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Ctrl-C during an apply: the batch in flight is finished and recorded,
// no further batch starts, the state keeps every key ID, and the next apply
// (after untaint) sends only what was never sent.
func TestAccKeyMigration_interruptedApplyResumes(t *testing.T) {
	t.Parallel()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	u := startLocalUnkey(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	keys := generatedKeys("interrupt", 100)
	w.WriteConfig(u.migrationConfig("  batch_size = 10", keys))
	// Every batch takes a second, so the interrupt lands while one is in flight.
	u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultDelay, Delay: time.Second})

	cmd := w.Command("apply", "-auto-approve", "-no-color")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForRequests(t, u, "/v2/keys.migrateKeys", 3) // the third batch is in flight
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("the interrupted apply exited 0:\n%s", out.String())
	}
	sent := len(u.migratedHashes())
	if sent == len(keys) {
		t.Fatalf("the interrupt did not stop the apply: all %d hashes were sent", sent)
	}
	ids := w.State(migration)["key_ids"].(map[string]any)
	if len(ids) != sent {
		t.Fatalf("the server took %d hashes but state records %d key IDs: the batch in flight was lost\n%s", sent, len(ids), out.String())
	}

	u.ClearFaults()
	if o, err := w.Run("untaint", migration); err != nil {
		t.Fatalf("untaint: %v\n%s", err, o)
	}
	if o, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("resumed apply: %v\n%s", err, o)
	}
	for h, n := range sentCount(u) {
		if n != 1 {
			t.Fatalf("hash %s was sent %d times", h, n)
		}
	}
	if got := w.State(migration)["key_ids"].(map[string]any); len(got) != len(keys) {
		t.Fatalf("state holds %d key IDs after the resume, want %d", len(got), len(keys))
	}
}
