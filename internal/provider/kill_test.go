package provider_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// providerPIDs finds running processes of the provider binary in dir.
func providerPIDs(t *testing.T, dir string) []int {
	t.Helper()
	bin := filepath.Join(dir, "terraform-provider-unkey")
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.HasPrefix(string(cmdline), bin+"\x00") || string(cmdline) == bin {
			pids = append(pids, pid)
		}
	}
	return pids
}

// The provider process is killed (SIGKILL) while two parallel batches are in
// flight. Terraform saves nothing of that create, so the journal is what
// keeps the key IDs: the next apply recovers them, sends again only the
// batches that were in flight, and sends nothing else twice. Once the state has it all, the
// journal is removed.
func TestAccKeyMigration_providerKilledMidApply(t *testing.T) {
	t.Parallel()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run acceptance tests")
	}
	if runtime.GOOS != "linux" {
		t.Skip("finds the provider process through /proc")
	}
	u := startLocalUnkey(t)
	plugins := acctest.BuildProvider(t)
	w := acctest.NewWorkdir(t, plugins)
	keys := generatedKeys("killed", 100)
	w.WriteConfig(withProviderSettings(u.migrationConfig("  batch_size = 10", keys), "  parallel_requests = 2"))
	u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultDelay, Delay: time.Second})

	cmd := w.Command("apply", "-auto-approve", "-no-color")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForRequests(t, u, "/v2/keys.migrateKeys", 4) // batches 1–2 answered, 3–4 in flight
	pids := providerPIDs(t, plugins)
	if len(pids) != 1 {
		t.Fatalf("found %d provider processes, want 1", len(pids))
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("apply succeeded although its provider was killed:\n%s", out.String())
	}
	if st := w.State(migration); st != nil {
		t.Fatalf("Terraform saved state for the killed create: %v", st["key_ids"])
	}
	answeredBeforeKill := len(u.migratedHashes()) - 20

	u.ClearFaults()
	o, err := w.Run("apply", "-auto-approve")
	if err != nil {
		t.Fatalf("apply after the kill: %v\n%s", err, o)
	}
	if !strings.Contains(flatten(o), "Recovered the outcome of an interrupted apply") {
		t.Errorf("the apply did not say it recovered key IDs:\n%s", o)
	}
	twice := 0
	for h, n := range sentCount(u) {
		switch {
		case n > 2:
			t.Fatalf("hash %s was sent %d times", h, n)
		case n == 2:
			twice++
		}
	}
	if twice > 20 {
		t.Fatalf("%d hashes were sent twice; only the 20 of the two batches in flight may be", twice)
	}
	st := w.State(migration)
	ids := st["key_ids"].(map[string]any)
	unconfirmed, _ := st["unconfirmed_hashes"].([]any)
	failed, _ := st["failed_hashes"].([]any)
	if len(ids)+len(unconfirmed) != len(keys) || len(failed) != 0 {
		t.Fatalf("%d key IDs, %d unconfirmed, %d failed: want all %d hashes accounted for, none failed", len(ids), len(unconfirmed), len(failed), len(keys))
	}
	if len(ids) < answeredBeforeKill {
		t.Fatalf("only %d key IDs, but %d hashes were answered before the kill", len(ids), answeredBeforeKill)
	}
	for h, id := range ids {
		if k, ok := u.KeyByHash(h); !ok || k.ID != id {
			t.Fatalf("key_ids[%s] = %v does not match the server", h, id)
		}
	}

	journal := journalPath(u)
	if _, err := os.Stat(journal); err != nil {
		t.Fatalf("no journal at %s before the state was confirmed: %v", journal, err)
	}
	if o, err := w.Run("plan", "-detailed-exitcode"); err != nil {
		t.Fatalf("plan after the recovery is not empty: %v\n%s", err, o)
	}
	if _, err := os.Stat(journal); !os.IsNotExist(err) {
		t.Fatalf("the journal is still there once the state holds everything: %v", err)
	}
}

// journalPath is where the provider journals this test's migration.
func journalPath(u localUnkey) string {
	sum := sha256.Sum256([]byte(u.URL + "\x00" + u.Seed.MigrationID + "\x00" + u.Seed.APIID))
	return filepath.Join(os.Getenv("UNKEY_PROVIDER_JOURNAL_DIR"), hex.EncodeToString(sum[:12])+".jsonl")
}
