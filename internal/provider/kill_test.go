package provider_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
func providerPIDs(t *testing.T, dir string, parent int) []int {
	t.Helper()
	bin := filepath.Join(dir, "terraform-provider-unkey")
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || parentPID(pid) != parent {
			continue // tests run in parallel: only this test's Terraform's provider counts
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.HasPrefix(string(cmdline), bin+"\x00") || string(cmdline) == bin {
			pids = append(pids, pid)
		}
	}
	return pids
}

// parentPID reads a process's parent from /proc/PID/stat ("pid (comm) state
// ppid ..."; comm may hold spaces, so read after its closing parenthesis).
func parentPID(pid int) int {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return -1
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(fields) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return -1
	}
	return ppid
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
	pids := providerPIDs(t, plugins, cmd.Process.Pid)
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

// killProviderAfter starts an apply, waits until the server has seen n
// migrateKeys requests and kills the provider process (SIGKILL).
func killProviderAfter(t *testing.T, w *acctest.Workdir, u localUnkey, plugins string, n int) {
	t.Helper()
	cmd := w.Command("apply", "-auto-approve", "-no-color")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForRequests(t, u, "/v2/keys.migrateKeys", n)
	pids := providerPIDs(t, plugins, cmd.Process.Pid)
	if len(pids) != 1 {
		t.Fatalf("found %d provider processes, want 1", len(pids))
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("apply succeeded although its provider was killed:\n%s", out.String())
	}
}

// sentAtMostTwice fails when a hash reached migrateKeys more than twice, or
// more than maxTwice hashes twice (those of the batches in flight).
func sentAtMostTwice(t *testing.T, u localUnkey, maxTwice int) {
	t.Helper()
	twice := 0
	for h, n := range sentCount(u) {
		switch {
		case n > 2:
			t.Fatalf("hash %s was sent %d times", h, n)
		case n == 2:
			twice++
		}
	}
	if twice > maxTwice {
		t.Fatalf("%d hashes were sent twice; only the %d of the batches in flight may be", twice, maxTwice)
	}
}

// everyHashAccounted checks a migration's state: every hash has a key ID
// (the server's) or is unconfirmed, none failed, and at least minIDs key IDs.
func everyHashAccounted(t *testing.T, u localUnkey, st map[string]any, keys map[string]string, minIDs int) {
	t.Helper()
	if st == nil {
		t.Fatal("the migration is not in state")
	}
	ids, _ := st["key_ids"].(map[string]any)
	unconfirmed, _ := st["unconfirmed_hashes"].([]any)
	failed, _ := st["failed_hashes"].([]any)
	if len(ids)+len(unconfirmed) != len(keys) || len(failed) != 0 {
		t.Fatalf("%d key IDs, %d unconfirmed, %d failed: want all %d hashes accounted for, none failed", len(ids), len(unconfirmed), len(failed), len(keys))
	}
	if len(ids) < minIDs {
		t.Fatalf("only %d key IDs, but %d hashes were answered before the kill", len(ids), minIDs)
	}
	for h, id := range ids {
		if _, ok := keys[h]; !ok {
			t.Fatalf("key_ids holds hash %s, which is not in this migration's keys", h)
		}
		if k, ok := u.KeyByHash(h); !ok || k.ID != id {
			t.Fatalf("key_ids[%s] = %v does not match the server", h, id)
		}
	}
}

// The provider killed while an Update adds 100 hashes to 10 migrated ones.
// The next apply refreshes the state Terraform kept (the 10), which must not
// take the journaled new hashes for removed ones: before, the journal was
// deleted there and the re-sent hashes came back failed (90 key IDs, 20
// failed of 110).
func TestAccKeyMigration_providerKilledMidUpdate(t *testing.T) {
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
	old := generatedKeys("killed_update_old", 10)
	all := merge(old, generatedKeys("killed_update_new", 100))
	cfg := func(keys map[string]string) string {
		return withProviderSettings(u.migrationConfig("  batch_size = 10", keys), "  parallel_requests = 2")
	}
	w.WriteConfig(cfg(old))
	if o, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("create: %v\n%s", err, o)
	}
	u.ResetRequests()
	w.WriteConfig(cfg(all))
	u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultDelay, Delay: time.Second})
	killProviderAfter(t, w, u, plugins, 4) // batches 1–2 answered, 3–4 in flight
	if ids := w.State(migration)["key_ids"].(map[string]any); len(ids) != len(old) {
		t.Fatalf("after the killed update, state holds %d key IDs, want the %d of the create", len(ids), len(old))
	}
	answeredBeforeKill := len(old) + len(u.migratedHashes()) - 20

	u.ClearFaults()
	o, err := w.Run("apply", "-auto-approve") // refreshes first
	if err != nil {
		t.Fatalf("apply after the kill: %v\n%s", err, o)
	}
	if !strings.Contains(flatten(o), "Recovered the outcome of an interrupted apply") {
		t.Errorf("the apply did not say it recovered key IDs:\n%s", o)
	}
	sentAtMostTwice(t, u, 20)
	everyHashAccounted(t, u, w.State(migration), all, answeredBeforeKill)
	if o, err := w.Run("plan", "-detailed-exitcode"); err != nil {
		t.Fatalf("plan after the recovery is not empty: %v\n%s", err, o)
	}
	if _, err := os.Stat(journalPath(u)); !os.IsNotExist(err) {
		t.Fatalf("the journal is still there once the state holds everything: %v", err)
	}
}

// shardedConfig is two unkey_key_migration shards of one export (for_each,
// the same migration_id and api_id), which share a journal.
func shardedConfig(u localUnkey, shards map[string]map[string]string) string {
	var b strings.Builder
	b.WriteString(withProviderSettings(u.providerBlock(), "  parallel_requests = 2"))
	b.WriteString("locals {\n  shards = {\n")
	for _, name := range []string{"a", "b"} {
		fmt.Fprintf(&b, "    %s = {\n", name)
		for _, h := range sortedHashes(shards[name]) {
			fmt.Fprintf(&b, "      %q = { %s }\n", h, strings.TrimSpace(shards[name][h]))
		}
		b.WriteString("    }\n")
	}
	fmt.Fprintf(&b, "  }\n}\n\nresource \"unkey_key_migration\" \"shard\" {\n  for_each     = local.shards\n  migration_id = %q\n  api_id       = %q\n  batch_size   = 10\n  keys         = each.value\n}\n",
		u.Seed.MigrationID, u.Seed.APIID)
	return b.String()
}

// Two shards applied together, the provider killed when the small one is
// done and saved and the large one is mid-create. Refreshing the saved shard
// must drop only its own hashes from the shared journal: before, it deleted
// the journal and the other shard's key IDs with it.
func TestAccKeyMigration_shardsKilledMidApply(t *testing.T) {
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
	shards := map[string]map[string]string{"a": generatedKeys("shard_a", 10), "b": generatedKeys("shard_b", 60)}
	w.WriteConfig(shardedConfig(u, shards))
	u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultDelay, Delay: time.Second})
	// a's one batch and b's batches 1–4 answered, b's 5–6 in flight.
	killProviderAfter(t, w, u, plugins, 7)
	addr := func(s string) string { return fmt.Sprintf("unkey_key_migration.shard[%q]", s) }
	if st := w.State(addr("a")); st == nil {
		t.Fatal("Terraform did not save shard a, which finished before the kill; the test cannot tell shards apart")
	}
	if st := w.State(addr("b")); st != nil {
		t.Fatal("Terraform saved shard b although its create was killed")
	}
	answeredBeforeKill := len(u.migratedHashes()) - 20 - len(shards["a"])

	u.ClearFaults()
	o, err := w.Run("apply", "-auto-approve") // refreshes shard a first
	if err != nil {
		t.Fatalf("apply after the kill: %v\n%s", err, o)
	}
	sentAtMostTwice(t, u, 20)
	everyHashAccounted(t, u, w.State(addr("a")), shards["a"], len(shards["a"]))
	everyHashAccounted(t, u, w.State(addr("b")), shards["b"], answeredBeforeKill)
	if o, err := w.Run("plan", "-detailed-exitcode"); err != nil {
		t.Fatalf("plan after the recovery is not empty: %v\n%s", err, o)
	}
	if _, err := os.Stat(journalPath(u)); !os.IsNotExist(err) {
		t.Fatalf("the journal is still there once both shards' states hold everything: %v", err)
	}
}
