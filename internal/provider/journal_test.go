package provider

import (
	"os"
	"testing"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

func TestJournalReplaysBatchesAndSurvivesATornLine(t *testing.T) {
	t.Setenv(journalDirEnv, t.TempDir())
	j := journalFor("http://127.0.0.1:1", "mig_x", "api_x")
	for _, e := range []journalEntry{
		{Sending: []string{"a", "b", "c"}},
		outcomeEntry(unkeyclient.MigrateResult{KeyIDs: map[string]string{"a": "key_a"}, Failed: []string{"b"}, Unconfirmed: []string{"c"}}),
		{Sending: []string{"d", "e"}},
		outcomeEntry(unkeyclient.MigrateResult{KeyIDs: map[string]string{}, NotSent: []string{"e"}}),
		{Sending: []string{"f"}}, // in flight when the process died
	} {
		if err := j.append(e); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(j.path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"key_ids":{"g":"key_`) // torn by the crash
	_ = f.Close()

	rec, err := j.read()
	if err != nil {
		t.Fatal(err)
	}
	if rec.keyIDs["a"] != "key_a" || !rec.failed["b"] || !rec.unconfirmed["c"] || rec.keyIDs["g"] != "" {
		t.Fatalf("replayed %+v", rec)
	}
	if !rec.inDoubt["d"] || rec.inDoubt["e"] || !rec.inDoubt["f"] || len(rec.inDoubt) != 2 {
		t.Fatalf("in doubt: %v, want d (sent, unanswered) and f (in flight)", rec.inDoubt)
	}

	state := migrationRecord{keyIDs: map[string]string{"a": "key_a", "d": "key_d", "f": "key_f"}, failed: map[string]bool{"b": true}, unconfirmed: map[string]bool{"c": true}}
	if !rec.coveredBy(state, map[string]bool{"a": true, "b": true, "c": true, "d": true, "f": true}) {
		t.Fatal("a state holding every outcome does not cover the journal")
	}
	delete(state.keyIDs, "f")
	if rec.coveredBy(state, map[string]bool{"a": true, "b": true, "c": true, "d": true, "f": true}) {
		t.Fatal("a state missing an in-flight hash's outcome covers the journal")
	}
	if !rec.coveredBy(state, map[string]bool{"a": true, "b": true, "c": true, "d": true}) {
		t.Fatal("a hash removed from the configuration keeps the journal alive")
	}
	if err := j.remove(); err != nil || j.remove() != nil {
		t.Fatalf("remove: %v", err)
	}
}
