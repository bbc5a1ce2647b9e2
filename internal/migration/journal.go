package migration

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/unkeyed/terraform-provider-unkey/internal/plainjson"
)

// DirEnv overrides the journal directory.
const DirEnv = "UNKEY_PROVIDER_JOURNAL_DIR"

// Dir is where journals live: $UNKEY_PROVIDER_JOURNAL_DIR, else unkey-journal
// in Terraform's data directory ($TF_DATA_DIR, which Terraform passes on to
// providers, default .terraform in the working directory).
func Dir() string {
	if dir := os.Getenv(DirEnv); dir != "" {
		return dir
	}
	data := os.Getenv("TF_DATA_DIR")
	if data == "" {
		data = ".terraform"
	}
	return filepath.Join(data, "unkey-journal")
}

// Journal is the append-only record of the batches of one migration into
// one API of one Unkey, shared by every resource migrating into them.
type Journal struct {
	path string
}

// For names the journal of a migration into an API of the Unkey at apiURL.
func For(dir, apiURL, migrationID, apiID string) Journal {
	sum := sha256.Sum256([]byte(apiURL + "\x00" + migrationID + "\x00" + apiID))
	return Journal{path: filepath.Join(dir, hex.EncodeToString(sum[:12])+".jsonl")}
}

// Path is the journal's file.
func (j Journal) Path() string { return j.path }

// Entry is one line of a journal.
type Entry struct {
	Sending     []string          `json:"sending,omitempty"`
	KeyIDs      map[string]string `json:"key_ids,omitempty"`
	Failed      []string          `json:"failed,omitempty"`
	Unconfirmed []string          `json:"unconfirmed,omitempty"`
	Answered    []string          `json:"answered,omitempty"` // sent and known not to have been taken
	Forget      []string          `json:"forget,omitempty"`   // saved in state, or destroyed
	// Sealed, on the last line, says that every line above is the outcome
	// of one apply, all of it held by the state whose Sum is Sealed (Seal).
	Sealed string `json:"sealed,omitempty"`
}

// Replay is what a journal says about hashes.
type Replay struct {
	Record
	// InDoubt hashes were sent without an answer being recorded.
	InDoubt map[string]bool
}

// Empty reports whether the journal says nothing about any hash.
func (r Replay) Empty() bool { return r.Record.Empty() && len(r.InDoubt) == 0 }

// locks serialise, within the process, the appends and rewrites of each
// journal: resources sharing a journal are applied concurrently. A lock file
// beside the journal does the same across processes.
var locks sync.Map

func (j Journal) lock() func() {
	m, _ := locks.LoadOrStore(j.path, &sync.Mutex{})
	mu, _ := m.(*sync.Mutex) // only mutexes are stored
	mu.Lock()
	release := lockAcrossProcesses(j.path + ".lock")
	return func() {
		release()
		mu.Unlock()
	}
}

// Read replays the journal; a missing journal is empty. A line that cannot
// be read (cut short by a crash) is skipped: every other line stands.
func (j Journal) Read() (Replay, error) {
	if !j.exists() {
		return j.read()
	}
	defer j.lock()()
	return j.read()
}

// Exists reports whether the journal may exist: when it does not, there is
// nothing in it to forget.
func (j Journal) Exists() bool { return j.exists() }

// exists reports whether the journal may exist: when it does not, reading
// and forgetting take no lock, so that a refresh writes nothing.
func (j Journal) exists() bool {
	_, err := os.Stat(j.path)
	return !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR)
}

func (j Journal) read() (Replay, error) {
	rep := Replay{Record: NewRecord(), InDoubt: map[string]bool{}}
	f, err := os.Open(j.path)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return rep, nil // nothing can be journaled under a file either
	}
	if err != nil {
		return rep, err
	}
	defer func() { _ = f.Close() }()
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	for scanner.Scan() {
		var e Entry
		if decodeEntry(scanner.Bytes(), &e) != nil {
			continue
		}
		rep.apply(e)
	}
	return rep, scanner.Err()
}

// decodeEntry reads one line as json.Unmarshal does; the lines Append
// writes, without its reflection (after a create of 100,000 keys the next
// refresh reads 10 MB of them).
func decodeEntry(line []byte, e *Entry) error {
	if decodePlainEntry(string(line), e) {
		return nil
	}
	*e = Entry{}
	return json.Unmarshal(line, e)
}

// decodePlainEntry reads a line in the form Append writes: each field
// named as written, once, holding plain strings.
func decodePlainEntry(line string, e *Entry) bool {
	d := plainjson.New(line)
	var seen uint16
	return d.Object(func(name string) bool {
		if plainjson.Once(&seen, name, "sending", "failed", "unconfirmed", "answered", "forget", "key_ids") == 0 {
			return false
		}
		var ok bool
		switch name {
		case "sending":
			e.Sending, ok = d.Strings()
		case "failed":
			e.Failed, ok = d.Strings()
		case "unconfirmed":
			e.Unconfirmed, ok = d.Strings()
		case "answered":
			e.Answered, ok = d.Strings()
		case "forget":
			e.Forget, ok = d.Strings()
		case "key_ids":
			e.KeyIDs = map[string]string{}
			ok = d.Object(func(hash string) bool {
				id, ok := d.Str()
				e.KeyIDs[hash] = id
				return ok
			})
		}
		return ok
	}) && d.End()
}

func (r Replay) apply(e Entry) {
	for _, h := range e.Sending {
		r.InDoubt[h] = true
	}
	for h, id := range e.KeyIDs {
		r.KeyIDs[h] = id
		delete(r.InDoubt, h)
	}
	for _, h := range e.Failed {
		r.Failed[h] = true
		delete(r.InDoubt, h)
	}
	for _, h := range e.Unconfirmed {
		r.Unconfirmed[h] = true
		delete(r.InDoubt, h)
	}
	for _, h := range e.Answered {
		delete(r.InDoubt, h)
	}
	for _, h := range e.Forget {
		r.Forget(h)
		delete(r.InDoubt, h)
	}
}

// Append writes one entry and syncs it to disk before returning. After a
// line torn by a crash it starts a new line, so that the entry stays
// readable.
func (j Journal) Append(e Entry) error {
	_, err := j.AppendCounted(e)
	return err
}

// AppendCounted is Append, also returning how many bytes it wrote: what
// Seal needs.
func (j Journal) AppendCounted(e Entry) (int64, error) {
	defer j.lock()()
	return j.append(e)
}

func (j Journal) append(e Entry) (int64, error) {
	line, err := json.Marshal(e)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(j.path), 0o700); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(j.path, os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o600)
	if err != nil {
		return 0, err
	}
	if torn, err := endsTorn(f); err != nil {
		_ = f.Close()
		return 0, err
	} else if torn {
		line = append([]byte{'\n'}, line...)
	}
	n, err := f.Write(append(line, '\n'))
	if err != nil {
		_ = f.Close()
		return int64(n), err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return int64(n), err
	}
	return int64(n), f.Close()
}

// Seal marks the journal as holding nothing but the lines of one apply,
// which wrote the given number of bytes, all of whose outcomes are in the
// state summed up by sum: then the next refresh of that state can remove
// the journal without reading it (RemoveIfSealed), where ForgetSaved reads
// every line and compares every key ID (at 100,000 keys a tenth of a
// second, and the state's key IDs decoded). It seals nothing, and says
// false, when the journal holds any other line (another resource's, or an
// earlier apply's): ForgetSaved then sorts them out.
func (j Journal) Seal(wrote int64, sum string) (bool, error) {
	if wrote == 0 || !j.exists() {
		return false, nil
	}
	defer j.lock()()
	info, err := os.Stat(j.path)
	if err != nil || info.Size() != wrote {
		return false, err
	}
	_, err = j.append(Entry{Sealed: sum})
	return err == nil, err
}

// RemoveIfSealed removes the journal when its last line seals it for the
// state summed up by sum, and reports whether it did.
func (j Journal) RemoveIfSealed(sum string) (bool, error) {
	if !j.exists() {
		return false, nil
	}
	defer j.lock()()
	last, err := j.lastLine()
	if err != nil {
		return false, err
	}
	var e Entry
	if decodeEntry(last, &e) != nil || e.Sealed == "" || e.Sealed != sum {
		return false, nil
	}
	return true, j.remove()
}

// lastLine is the journal's last line, read from its end: a seal is a few
// dozen bytes after megabytes of batches.
func (j Journal) lastLine() ([]byte, error) {
	f, err := os.Open(j.path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	const tail = 512 // longer than any seal
	from := max(info.Size()-tail, 0)
	buf := make([]byte, info.Size()-from)
	if _, err := f.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	return buf[bytes.LastIndexByte(buf, '\n')+1:], nil
}

// endsTorn reports whether the file's last line lacks its newline.
func endsTorn(f *os.File) (bool, error) {
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return false, err
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, info.Size()-1); err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return last[0] != '\n', nil
}

// ForgetSaved forgets the hashes whose journaled outcome the saved state
// holds (the same key ID; any outcome for a failed, unconfirmed or in-doubt
// hash), and removes the journal once nothing is left. Hashes the state does
// not hold stay: the outcome of an apply whose state was never saved, or
// another resource's.
func (j Journal) ForgetSaved(saved Record) (forgotten int, err error) {
	if !j.exists() {
		return 0, nil
	}
	defer j.lock()()
	rep, err := j.read()
	if err != nil || rep.Empty() {
		return 0, err
	}
	var hashes []string
	for h, id := range rep.KeyIDs {
		if saved.KeyIDs[h] == id {
			hashes = append(hashes, h)
		}
	}
	for _, set := range []map[string]bool{rep.Failed, rep.Unconfirmed, rep.InDoubt} {
		for h := range set {
			if saved.Accounted(h) {
				hashes = append(hashes, h)
			}
		}
	}
	return len(hashes), j.forgetLocked(rep, hashes)
}

// Forget drops hashes from the journal (a destroyed resource's), and removes
// the journal once nothing is left.
func (j Journal) Forget(hashes []string) error {
	if !j.exists() {
		return nil
	}
	defer j.lock()()
	rep, err := j.read()
	if err != nil || rep.Empty() {
		return err
	}
	var known []string
	for _, h := range hashes {
		if rep.Accounted(h) || rep.InDoubt[h] {
			known = append(known, h)
		}
	}
	return j.forgetLocked(rep, known)
}

func (j Journal) forgetLocked(rep Replay, hashes []string) error {
	if len(hashes) == 0 {
		return nil
	}
	rep.apply(Entry{Forget: hashes})
	if rep.Empty() {
		return j.remove()
	}
	_, err := j.append(Entry{Forget: hashes})
	return err
}

// Remove deletes the journal.
func (j Journal) Remove() error {
	if !j.exists() {
		return nil
	}
	defer j.lock()()
	return j.remove()
}

func (j Journal) remove() error {
	err := os.Remove(j.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
