package provider

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

// The journal records every batch as it is sent and answered, in a file in
// the working directory. Terraform saves nothing of an operation whose
// provider process died (SIGKILL, out of memory, a lost machine), and Unkey
// cannot give key IDs back, so without it such a death would lose every key
// ID of the apply. With it, the next apply recovers them, and only the
// batches in flight are in doubt: they are sent once more, and what then
// already exists is reported as unconfirmed. A journal is removed once the
// state holds all it recorded, or when the migration is destroyed.

// journalDirEnv overrides the journal directory (default .terraform/unkey-journal).
const journalDirEnv = "UNKEY_PROVIDER_JOURNAL_DIR"

type journalEntry struct {
	Sending     []string          `json:"sending,omitempty"`
	KeyIDs      map[string]string `json:"key_ids,omitempty"`
	Failed      []string          `json:"failed,omitempty"`
	Unconfirmed []string          `json:"unconfirmed,omitempty"`
	Answered    []string          `json:"answered,omitempty"` // sent and known not to have been taken
}

// journalRecord is what a journal says about hashes.
type journalRecord struct {
	migrationRecord
	// inDoubt hashes were sent without an answer being recorded.
	inDoubt map[string]bool
}

func (j journalRecord) empty() bool {
	return len(j.keyIDs)+len(j.failed)+len(j.unconfirmed)+len(j.inDoubt) == 0
}

type journal struct {
	path string
}

// journalFor names the journal of one migration into one API of one Unkey.
func journalFor(apiURL, migrationID, apiID string) journal {
	dir := os.Getenv(journalDirEnv)
	if dir == "" {
		dir = filepath.Join(".terraform", "unkey-journal")
	}
	sum := sha256.Sum256([]byte(apiURL + "\x00" + migrationID + "\x00" + apiID))
	return journal{path: filepath.Join(dir, hex.EncodeToString(sum[:12])+".jsonl")}
}

// read replays the journal; a missing journal is empty.
func (j journal) read() (journalRecord, error) {
	rec := journalRecord{
		migrationRecord: migrationRecord{keyIDs: map[string]string{}, failed: map[string]bool{}, unconfirmed: map[string]bool{}},
		inDoubt:         map[string]bool{},
	}
	f, err := os.Open(j.path)
	if errors.Is(err, os.ErrNotExist) {
		return rec, nil
	}
	if err != nil {
		return rec, err
	}
	defer func() { _ = f.Close() }()
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	for scanner.Scan() {
		var e journalEntry
		if json.Unmarshal(scanner.Bytes(), &e) != nil {
			break // a line cut short by the crash: everything before it stands
		}
		for _, h := range e.Sending {
			rec.inDoubt[h] = true
		}
		for h, id := range e.KeyIDs {
			rec.keyIDs[h] = id
			delete(rec.inDoubt, h)
		}
		for _, h := range e.Failed {
			rec.failed[h] = true
			delete(rec.inDoubt, h)
		}
		for _, h := range e.Unconfirmed {
			rec.unconfirmed[h] = true
			delete(rec.inDoubt, h)
		}
		for _, h := range e.Answered {
			delete(rec.inDoubt, h)
		}
	}
	return rec, scanner.Err()
}

// append writes one entry and syncs it to disk before returning.
func (j journal) append(e journalEntry) error {
	if err := os.MkdirAll(filepath.Dir(j.path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(j.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	line, err := json.Marshal(e)
	if err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func (j journal) remove() error {
	err := os.Remove(j.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// outcomeEntry turns a batch's outcome into a journal entry.
func outcomeEntry(o unkeyclient.MigrateResult) journalEntry {
	return journalEntry{KeyIDs: o.KeyIDs, Failed: o.Failed, Unconfirmed: o.Unconfirmed, Answered: o.NotSent}
}

// coveredBy reports whether the state holds everything the journal recorded
// about the hashes it still has, so that the journal is no longer needed.
// Hashes since removed from the configuration do not count.
func (j journalRecord) coveredBy(state migrationRecord, stateKeys map[string]bool) bool {
	for _, hashes := range []map[string]bool{j.failed, j.unconfirmed, j.inDoubt} {
		for h := range hashes {
			if stateKeys[h] && !state.accounted(h) {
				return false
			}
		}
	}
	for h, id := range j.keyIDs {
		if stateKeys[h] && state.keyIDs[h] != id {
			return false
		}
	}
	return true
}
