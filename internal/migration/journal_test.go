package migration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func appendAll(t *testing.T, j Journal, entries ...Entry) {
	t.Helper()
	for _, e := range entries {
		if err := j.Append(e); err != nil {
			t.Fatal(err)
		}
	}
}

func tear(t *testing.T, j Journal, partial string) {
	t.Helper()
	f, err := os.OpenFile(j.Path(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if _, err := f.WriteString(partial); err != nil {
		t.Fatal(err)
	}
}

func TestJournalReplaysBatches(t *testing.T) {
	j := For(t.TempDir(), "http://127.0.0.1:1", "mig_x", "api_x")
	appendAll(t, j,
		Entry{Sending: []string{"a", "b", "c"}},
		Entry{KeyIDs: map[string]string{"a": "key_a"}, Failed: []string{"b"}, Unconfirmed: []string{"c"}},
		Entry{Sending: []string{"d", "e"}},
		Entry{Answered: []string{"e"}},
		Entry{Sending: []string{"f"}}, // in flight when the process died
	)
	rep, err := j.Read()
	if err != nil {
		t.Fatal(err)
	}
	if rep.KeyIDs["a"] != "key_a" || !rep.Failed["b"] || !rep.Unconfirmed["c"] {
		t.Fatalf("replayed %+v", rep)
	}
	if !rep.InDoubt["d"] || rep.InDoubt["e"] || !rep.InDoubt["f"] || len(rep.InDoubt) != 2 {
		t.Fatalf("in doubt: %v, want d (sent, unanswered) and f (in flight)", rep.InDoubt)
	}
}

// A line torn by a crash is skipped, and what is appended after it stays
// readable: before, the first bad line ended the replay.
func TestJournalSurvivesATornLine(t *testing.T) {
	j := For(t.TempDir(), "u", "m", "a")
	appendAll(t, j, Entry{KeyIDs: map[string]string{"a": "key_a"}})
	tear(t, j, `{"key_ids":{"g":"key_`)
	appendAll(t, j, Entry{KeyIDs: map[string]string{"h": "key_h"}})
	rep, err := j.Read()
	if err != nil {
		t.Fatal(err)
	}
	if rep.KeyIDs["a"] != "key_a" || rep.KeyIDs["h"] != "key_h" || rep.KeyIDs["g"] != "" {
		t.Fatalf("key IDs after a torn line: %v, want a and h", rep.KeyIDs)
	}
	raw, _ := os.ReadFile(j.Path())
	tear(t, j, "garbage\n")
	appendAll(t, j, Entry{Failed: []string{"i"}})
	if rep, _ := j.Read(); !rep.Failed["i"] || rep.KeyIDs["h"] != "key_h" {
		t.Fatalf("an unreadable whole line hid later entries (journal was %q)", raw)
	}
}

// The journal of a killed Update holds the hashes it added, which the saved
// state does not have yet. Refreshing that state must keep them; before,
// they were taken for removed hashes and the journal deleted.
func TestForgetSavedKeepsWhatTheStateLacks(t *testing.T) {
	j := For(t.TempDir(), "u", "m", "a")
	appendAll(t, j,
		Entry{Sending: []string{"old1", "old2"}},
		Entry{KeyIDs: map[string]string{"old1": "key_1", "old2": "key_2"}},
		Entry{Sending: []string{"new1", "new2", "new3"}},
		Entry{KeyIDs: map[string]string{"new1": "key_n1"}, Failed: []string{"new2"}},
	)
	saved := NewRecord()
	saved.KeyIDs["old1"], saved.KeyIDs["old2"] = "key_1", "key_2"
	n, err := j.ForgetSaved(saved)
	if err != nil || n != 2 {
		t.Fatalf("forgot %d (%v), want the 2 saved hashes", n, err)
	}
	rep, _ := j.Read()
	if rep.KeyIDs["new1"] != "key_n1" || !rep.Failed["new2"] || !rep.InDoubt["new3"] || rep.Accounted("old1") {
		t.Fatalf("after forgetting the saved hashes: %+v", rep)
	}
	// A state with a different key ID for a hash does not cover it.
	saved.KeyIDs["new1"] = "key_other"
	saved.Failed["new2"], saved.Unconfirmed["new3"] = true, true
	if _, err := j.ForgetSaved(saved); err != nil {
		t.Fatal(err)
	}
	if rep, _ := j.Read(); rep.KeyIDs["new1"] != "key_n1" || len(rep.KeyIDs)+len(rep.Failed)+len(rep.InDoubt) != 1 {
		t.Fatalf("after the state took new2 and new3: %+v", rep)
	}
	saved.KeyIDs["new1"] = "key_n1"
	if _, err := j.ForgetSaved(saved); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(j.Path()); !os.IsNotExist(err) {
		t.Fatalf("the journal is still there once the state holds everything: %v", err)
	}
}

// Two resources migrating into the same migration and API share a journal:
// each forgets only its own hashes.
func TestSharedJournalForgetsPerResource(t *testing.T) {
	j := For(t.TempDir(), "u", "m", "a")
	appendAll(t, j,
		Entry{Sending: []string{"a1", "b1"}},
		Entry{KeyIDs: map[string]string{"a1": "key_a1", "b1": "key_b1"}},
		Entry{Sending: []string{"a2", "b2"}},
	)
	shardA := NewRecord()
	shardA.KeyIDs["a1"] = "key_a1"
	if _, err := j.ForgetSaved(shardA); err != nil {
		t.Fatal(err)
	}
	if err := j.Forget([]string{"a1", "a2"}); err != nil { // shard A destroyed
		t.Fatal(err)
	}
	rep, _ := j.Read()
	if rep.KeyIDs["b1"] != "key_b1" || !rep.InDoubt["b2"] || rep.Accounted("a1") || rep.InDoubt["a2"] {
		t.Fatalf("shard B's entries after shard A was refreshed and destroyed: %+v", rep)
	}
	if err := j.Forget([]string{"b1", "b2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(j.Path()); !os.IsNotExist(err) {
		t.Fatalf("the journal outlives both shards: %v", err)
	}
	if err := j.Remove(); err != nil {
		t.Fatal(err)
	}
}

func TestJournalDirHonoursTFDataDir(t *testing.T) {
	t.Setenv(DirEnv, "")
	t.Setenv("TF_DATA_DIR", "")
	if got, want := Dir(), filepath.Join(".terraform", "unkey-journal"); got != want {
		t.Errorf("Dir() = %q, want %q", got, want)
	}
	t.Setenv("TF_DATA_DIR", "/data/tf")
	if got, want := Dir(), filepath.Join("/data/tf", "unkey-journal"); got != want {
		t.Errorf("with TF_DATA_DIR: Dir() = %q, want %q", got, want)
	}
	t.Setenv(DirEnv, "/override")
	if got := Dir(); got != "/override" {
		t.Errorf("with %s: Dir() = %q", DirEnv, got)
	}
}

func TestJournalAppendFailsWhereItCannotWrite(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := For(filepath.Join(blocker, "journal"), "u", "m", "a").Append(Entry{Sending: []string{"x"}}); err == nil {
		t.Fatal("appending under a regular file succeeded")
	}
}

// A journal that exists but cannot be read is an error (it may hold key
// IDs); one that cannot exist, under a regular file, is empty.
func TestJournalReadErrors(t *testing.T) {
	dir := t.TempDir()
	j := For(dir, "u", "m", "a")
	if err := os.Mkdir(j.Path(), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Read(); err == nil {
		t.Error("reading a journal that is a directory succeeded")
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if rep, err := For(filepath.Join(file, "journal"), "u", "m", "a").Read(); err != nil || !rep.Empty() {
		t.Errorf("a journal under a regular file: %+v, %v; want empty", rep, err)
	}
}

// Reading, forgetting and removing a journal that does not exist write
// nothing: a refresh must not need a writable directory.
func TestNoJournalWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journals")
	j := For(dir, "u", "m", "a")
	if rep, err := j.Read(); err != nil || !rep.Empty() {
		t.Fatalf("read: %+v, %v", rep, err)
	}
	if _, err := j.ForgetSaved(NewRecord()); err != nil {
		t.Fatal(err)
	}
	if err := j.Forget([]string{"x"}); err != nil {
		t.Fatal(err)
	}
	if err := j.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the journal directory was created: %v", err)
	}
}

// Appends from many goroutines (batches answered concurrently, shards
// applied together) all land, each on its own line.
func TestConcurrentAppends(t *testing.T) {
	j := For(t.TempDir(), "u", "m", "a")
	done := make(chan error)
	for i := range 20 {
		go func() {
			done <- j.Append(Entry{KeyIDs: map[string]string{fmt.Sprint("h", i): fmt.Sprint("key_", i)}})
		}()
	}
	for range 20 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if rep, err := j.Read(); err != nil || len(rep.KeyIDs) != 20 {
		t.Fatalf("%d of 20 concurrent entries read back (%v)", len(rep.KeyIDs), err)
	}
}

// A journal line reads the same through the plain reader as through
// json.Unmarshal: the journal holds key IDs that exist nowhere else.
func FuzzDecodeEntry(f *testing.F) {
	for _, seed := range []string{
		`{"sending":["h1","h2"]}`, `{"key_ids":{"h1":"key_1","h2":"key_2"},"failed":["h3"],"unconfirmed":[],"answered":["h4"]}`,
		`{"forget":["h1"]}`, `{"Sending":["h1"]}`, `{"sending":["h1"],"sending":["h2"]}`, `{"key_ids":{"h":"a","h":"b"}}`,
		`{"sending":null}`, `{"other":1,"sending":["h"]}`, `{"sending":["h\u0031"]}`, `{"sending":["h"]`, `{}`, `[]`, `{"key_ids":{"h":1}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var got, want Entry
		gotErr := decodeEntry([]byte(line), &got)
		wantErr := json.Unmarshal([]byte(line), &want)
		if (gotErr == nil) != (wantErr == nil) || (gotErr == nil && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%q: read %+v (%v), json.Unmarshal %+v (%v)", line, got, gotErr, want, wantErr)
		}
	})
}

// appendCounted appends entries as one apply does, returning the bytes it
// wrote.
func appendCounted(t *testing.T, j Journal, entries ...Entry) int64 {
	t.Helper()
	var wrote int64
	for _, e := range entries {
		n, err := j.AppendCounted(e)
		if err != nil {
			t.Fatal(err)
		}
		wrote += n
	}
	return wrote
}

func exists(j Journal) bool {
	_, err := os.Stat(j.Path())
	return err == nil
}

// A journal holding only one apply's lines is sealed for its state, and a
// refresh of exactly that state removes it without reading it; any other
// state, or any line after the seal, leaves it to ForgetSaved.
func TestSealedJournalIsRemovedOnlyForItsState(t *testing.T) {
	j := For(t.TempDir(), "u", "m", "a")
	wrote := appendCounted(t, j, Entry{Sending: []string{"a", "b"}}, Entry{KeyIDs: map[string]string{"a": "key_a"}, Failed: []string{"b"}})
	if sealed, err := j.Seal(wrote, "state-1"); err != nil || !sealed {
		t.Fatalf("Seal = %v, %v; want sealed", sealed, err)
	}
	if removed, err := j.RemoveIfSealed("state-0"); err != nil || removed || !exists(j) {
		t.Fatalf("RemoveIfSealed with another state's sum = %v, %v; want the journal kept", removed, err)
	}
	rep, err := j.Read()
	if err != nil || rep.KeyIDs["a"] != "key_a" || !rep.Failed["b"] || len(rep.InDoubt) != 0 {
		t.Fatalf("a sealed journal replays as %+v, %v", rep, err)
	}
	if removed, err := j.RemoveIfSealed("state-1"); err != nil || !removed || exists(j) {
		t.Fatalf("RemoveIfSealed with the sealed state's sum = %v, %v; want the journal removed", removed, err)
	}

	// Another apply appended after the seal: its lines are in no state yet.
	wrote = appendCounted(t, j, Entry{KeyIDs: map[string]string{"c": "key_c"}})
	if sealed, _ := j.Seal(wrote, "state-2"); !sealed {
		t.Fatal("not sealed")
	}
	appendAll(t, j, Entry{Sending: []string{"d"}})
	if removed, _ := j.RemoveIfSealed("state-2"); removed || !exists(j) {
		t.Fatal("a journal with a line after its seal was removed")
	}
}

// A journal with lines of another apply (another resource's, or an earlier
// killed one's) is not sealed: a seal would let their outcomes go with a
// state that does not hold them.
func TestJournalWithOtherLinesIsNotSealed(t *testing.T) {
	j := For(t.TempDir(), "u", "m", "a")
	appendAll(t, j, Entry{Sending: []string{"x"}}) // another shard's batch in flight
	wrote := appendCounted(t, j, Entry{Sending: []string{"a"}}, Entry{KeyIDs: map[string]string{"a": "key_a"}})
	if sealed, err := j.Seal(wrote, "state-a"); err != nil || sealed {
		t.Fatalf("Seal = %v, %v; want not sealed", sealed, err)
	}
	if removed, _ := j.RemoveIfSealed("state-a"); removed || !exists(j) {
		t.Fatal("an unsealed journal was removed")
	}
	if sealed, _ := For(t.TempDir(), "u", "m", "a").Seal(0, "s"); sealed {
		t.Fatal("sealed a journal nothing was written to")
	}
}
