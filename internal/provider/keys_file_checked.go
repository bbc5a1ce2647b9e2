package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/unkeyed/terraform-provider-unkey/internal/migration"
	"github.com/unkeyed/terraform-provider-unkey/internal/parallel"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

// A checked plan is what a provider process found comparing a keys_file
// with its state's digests: the file was valid, and these hashes are to be
// sent, updated and removed. Terraform plans again in the apply's own
// provider process, from the same file against the same state; with the
// record that process reads, checks and digests only the keys it sends or
// updates, where parsing the whole file costs 0.7 s of CPU at 100,000 keys
// (and the decoded keys 76 MB). The record is trusted only for exactly the
// inputs it was made from (the file by its SHA-256, which the apply still
// checks on the file itself, the hash format and everything the state
// compares with), and is only an optimisation: without it, the file is
// parsed as before.
type checkedPlan struct {
	Inputs string   `json:"inputs"`
	Send   []string `json:"send,omitempty"`
	Update []string `json:"update,omitempty"`
	Remove []string `json:"remove,omitempty"`
	// Spans is where the object of each hash sent or updated lies in the
	// file, [start, end): the apply's process decodes those alone.
	Spans map[string][2]int `json:"spans,omitempty"`
}

// checkedPlanVersion is part of every checked plan's inputs: a provider
// whose checks or comparison change bumps it, and trusts no older record.
const checkedPlanVersion = "checked-plan-2\x00"

// maxCheckedKeys bounds the keys a checked plan decodes one by one; a plan
// sending or updating more parses the whole file.
const maxCheckedKeys = 1000

// checkedPlanPath is where the checked plan of one resource's keys_file
// lives, beside the journals: one per migration, API and file path, each
// plan replacing the last.
func checkedPlanPath(plan keyMigrationModel) string {
	sum := sha256.Sum256([]byte(plan.MigrationID.ValueString() + "\x00" + plan.APIID.ValueString() + "\x00" + plan.KeysFile.ValueString()))
	return filepath.Join(migration.Dir(), "checked-"+hex.EncodeToString(sum[:12])+".json")
}

// changesInputsSum sums up everything a comparison of plan's keys_file with
// state's digests depends on.
func changesInputsSum(plan, state keyMigrationModel, fr keysFileRecord) string {
	in := changesInputsOf(plan, state, fr)
	h := sha256.New()
	_, _ = io.WriteString(h, checkedPlanVersion)
	for _, s := range []string{in.file, in.sha256, in.hashFormat, in.keyIDs, in.failed, in.unconfirmed, in.packed, in.rows, fmt.Sprint(in.pending, in.stale)} {
		_, _ = fmt.Fprintf(h, "%d:", len(s))
		_, _ = io.WriteString(h, s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// saveCheckedPlan records changes, found by comparing the whole valid file
// with the state, for the apply's process. A record that cannot be written
// is no loss.
func saveCheckedPlan(plan, state keyMigrationModel, fr keysFileRecord, c keyMigrationChanges, raw map[string]string) {
	if len(c.send)+len(c.update) > maxCheckedKeys {
		return
	}
	f, err := loadKeysFile(plan.KeysFile.ValueString())
	if err != nil {
		return
	}
	spans := make(map[string][2]int, len(c.send)+len(c.update))
	for _, h := range append(slices.Clone(c.send), c.update...) {
		span, ok := spanIn(f.doc, raw[h])
		if !ok {
			return
		}
		spans[h] = span
	}
	record, err := json.Marshal(checkedPlan{Inputs: changesInputsSum(plan, state, fr), Send: c.send, Update: c.update, Remove: c.remove, Spans: spans})
	if err != nil {
		return
	}
	p := checkedPlanPath(plan)
	if os.MkdirAll(filepath.Dir(p), 0o700) != nil {
		return
	}
	tmp := p + ".tmp"
	if os.WriteFile(tmp, record, 0o600) == nil {
		_ = os.Rename(tmp, p)
	}
}

// fileChanges is changesFrom for a keys_file planned against a keys_file
// state: from a checked plan when one applies, else by scanning the file
// (no key is kept decoded) and comparing digests. When applying, it also
// returns the planned keys of the hashes sent or updated, and only those:
// every other hash of the file is accounted for, its digest unchanged. A
// file that is not keys_file_sha256's is then reported as changed after the
// plan.
func fileChanges(plan, state keyMigrationModel, rec migrationRecord, fr keysFileRecord, applying bool) (map[string]unkeyclient.Key, keyMigrationChanges, diag.Diagnostics) {
	if planned, changes, ok := plannedFromCheckedPlan(plan, state, fr, rec); ok {
		return planned, changes, nil
	}
	scan, err := scanKeysFile(plan)
	if err != nil {
		return nil, keyMigrationChanges{}, keysFileDiags(err, applying)
	}
	changes := rememberedChanges(plan, state, fr, func() keyMigrationChanges {
		return planChangesByDigest(scan.hashes, scan.digest, rec, fr.digestLookup(rec))
	})
	saveCheckedPlan(plan, state, fr, changes, scan.raw)
	if !applying {
		return nil, changes, nil
	}
	planned, ok := scan.decodeKeys(append(slices.Clone(changes.send), changes.update...), plan.HashFormat.ValueString(), plan.KeysFile.ValueString())
	if !ok {
		var diags diag.Diagnostics
		diags.AddAttributeError(path.Root("keys_file"), "Could not read keys_file", "This is a bug in the provider: a key of the file read and checked could not be decoded again. Nothing was sent to Unkey.")
		return nil, changes, diags
	}
	return planned, changes, nil
}

// decodeKeys decodes the keys of the given hashes from their text, on
// every CPU; ok is false unless each decodes, valid, to its hash.
func (b bulkKeys) decodeKeys(hashes []string, hashFormat, name string) (map[string]unkeyclient.Key, bool) {
	keys := make([]unkeyclient.Key, len(hashes))
	valid := make([]bool, len(hashes))
	parallel.Chunks(len(hashes), func(from, to int) {
		dec := newItemDecoder()
		for i := from; i < to; i++ {
			if k, ok := b.keys[hashes[i]]; ok { // read by the stream reader, which keeps keys
				keys[i], valid[i] = k, true
				continue
			}
			raw, ok := b.raw[hashes[i]]
			if !ok {
				continue
			}
			r := dec.read(raw, 0, hashFormat, name)
			keys[i], valid[i] = r.key, !r.syntaxErr && r.problems.count == 0 && r.key.Hash == hashes[i]
		}
	})
	out := make(map[string]unkeyclient.Key, len(hashes))
	for i, h := range hashes {
		if !valid[i] {
			return nil, false
		}
		out[h] = keys[i]
	}
	return out, true
}

// plannedFromCheckedPlan gives what changesFrom would, from a checked plan
// of exactly these inputs: the changes, and the planned keys of the hashes
// sent or updated only (every other hash of the file is accounted for, with
// its digest unchanged). ok is false when there is no such record, or the
// file is not the one keys_file_sha256 names (the full path reports that),
// or a key it names is not found as it says.
func plannedFromCheckedPlan(plan, state keyMigrationModel, fr keysFileRecord, rec migrationRecord) (map[string]unkeyclient.Key, keyMigrationChanges, bool) {
	var none keyMigrationChanges
	if !plan.usesKeysFile() || !state.usesKeysFile() {
		return nil, none, false
	}
	raw, err := os.ReadFile(checkedPlanPath(plan))
	if err != nil {
		return nil, none, false
	}
	var cp checkedPlan
	if json.Unmarshal(raw, &cp) != nil || cp.Inputs != changesInputsSum(plan, state, fr) || len(cp.Send)+len(cp.Update) > maxCheckedKeys {
		return nil, none, false
	}
	f, err := checkedSpans(plan.KeysFile.ValueString(), cp)
	if err != nil || f.sha256 != plan.KeysFileSHA256.ValueString() {
		return nil, none, false
	}
	planned, ok := f.keysAt(cp.Spans, append(slices.Clone(cp.Send), cp.Update...), plan.HashFormat.ValueString(), plan.KeysFile.ValueString())
	if !ok {
		return nil, none, false
	}
	c := keyMigrationChanges{send: cp.Send, update: cp.Update, remove: cp.Remove, changes: map[string]settingsChange{}}
	var old func(hash string) string
	if len(cp.Update) > 0 {
		old = fr.digestLookup(rec)
	}
	for _, h := range cp.Update {
		ch := changeFromDigest(old(h), settingsDigest(planned[h]))
		if ch.empty() {
			return nil, none, false // not what the record says: compare the whole file
		}
		c.changes[h] = ch
	}
	return planned, c, true
}

// keysAt decodes and checks only the keys of the given hashes, each from
// its span of the file, as the whole file's parse would; ok is false unless
// each span holds exactly one valid key object of its hash.
func (f loadedKeysFile) keysAt(spans map[string][2]int, hashes []string, hashFormat, name string) (map[string]unkeyclient.Key, bool) {
	return spansOfDoc(f.sha256, f.doc, spans).keysAt(spans, hashes, hashFormat, name)
}

// spannedFile is what an apply from a checked plan needs of a keys_file:
// its SHA-256 and the text of each span, with up to spanMargin bytes either
// side, where the whole file kept a 40 MB export live in the apply's
// process for the few keys it sends or updates.
type spannedFile struct {
	sha256 string
	texts  map[[2]int]spanText
}

type spanText struct{ before, item, after string }

// spanMargin is how much of the file either side of a span betweenElements
// looks at: an element's neighbour is a comma or a bracket after some
// whitespace. A span with more whitespace than that around it is not
// trusted, and the apply reads the whole file instead.
const spanMargin = 256

// keysAt is loadedKeysFile.keysAt from the spans' texts.
func (f spannedFile) keysAt(spans map[string][2]int, hashes []string, hashFormat, name string) (map[string]unkeyclient.Key, bool) {
	out := make(map[string]unkeyclient.Key, len(hashes))
	dec := newItemDecoder()
	for _, h := range hashes {
		text, ok := f.texts[spans[h]]
		if !ok {
			return nil, false
		}
		item := text.item
		if item[0] != '{' || endOfJSONObject(item, 0) != len(item) || !betweenElements(text.before, text.after) {
			return nil, false
		}
		r := dec.read(item, 0, hashFormat, name)
		if r.syntaxErr || r.problems.count > 0 || r.key.Hash != h {
			return nil, false
		}
		out[h] = r.key
	}
	return out, true
}

// validSpan reports whether span could be an element of a file of size
// bytes.
func validSpan(span [2]int, size int) bool {
	return span[0] >= 0 && span[0] < span[1] && span[1] <= size
}

// spansOfDoc is the spannedFile of a file read whole.
func spansOfDoc(sum, doc string, spans map[string][2]int) spannedFile {
	f := spannedFile{sha256: sum, texts: make(map[[2]int]spanText, len(spans))}
	for _, span := range spans {
		if validSpan(span, len(doc)) {
			f.texts[span] = spanText{
				before: doc[max(span[0]-spanMargin, 0):span[0]],
				item:   doc[span[0]:span[1]],
				after:  doc[span[1]:min(span[1]+spanMargin, len(doc))],
			}
		}
	}
	return f
}

// readSpans reads the file once, through SHA-256, keeping only the spans'
// texts: the hash and the keys sent come from the same bytes.
func readSpans(name string, spans map[string][2]int) (spannedFile, error) {
	file, err := os.Open(name) // #nosec G304 -- reading the file the user names is the point of keys_file
	if err != nil {
		return spannedFile{}, err
	}
	defer func() { _ = file.Close() }()
	type window struct {
		span   [2]int
		lo, hi int // the span and its margins
		text   []byte
	}
	windows := make([]*window, 0, len(spans))
	for _, span := range spans {
		if span[0] >= 0 && span[0] < span[1] {
			windows = append(windows, &window{span: span, lo: max(span[0]-spanMargin, 0), hi: span[1] + spanMargin})
		}
	}
	h := sha256.New()
	buf := make([]byte, 256<<10)
	size := 0
	for {
		n, err := file.Read(buf)
		chunk := buf[:n]
		_, _ = h.Write(chunk) // a hash never fails
		for _, w := range windows {
			if from, to := max(w.lo, size), min(w.hi, size+n); from < to {
				w.text = append(w.text, chunk[from-size:to-size]...)
			}
		}
		size += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return spannedFile{}, err
		}
	}
	f := spannedFile{sha256: hex.EncodeToString(h.Sum(nil)), texts: make(map[[2]int]spanText, len(windows))}
	for _, w := range windows {
		if !validSpan(w.span, size) {
			continue
		}
		text := string(w.text)
		start, end := w.span[0]-w.lo, w.span[1]-w.lo
		f.texts[w.span] = spanText{before: text[:start], item: text[start:end], after: text[end:]}
	}
	return f, nil
}

// lastSpans keeps the spans an apply's process read for its re-plan
// (ModifyPlan), which its Update needs again.
var lastSpans struct {
	sync.Mutex
	name, inputs string
	file         spannedFile
}

// checkedSpans is the spannedFile of the checked plan cp: cut from the file
// when this process has read it whole, else read for the spans alone.
func checkedSpans(name string, cp checkedPlan) (spannedFile, error) {
	if f, ok := cachedKeysFile(name); ok {
		return spansOfDoc(f.sha256, f.doc, cp.Spans), nil
	}
	lastSpans.Lock()
	defer lastSpans.Unlock()
	if lastSpans.name == name && lastSpans.inputs == cp.Inputs {
		return lastSpans.file, nil
	}
	f, err := readSpans(name, cp.Spans)
	if err != nil {
		return spannedFile{}, err
	}
	lastSpans.name, lastSpans.inputs, lastSpans.file = name, cp.Inputs, f
	return f, nil
}

// betweenElements reports whether the text before and after a span is what
// surrounds an element of the array: a cheap guard against a span that is
// not where the plan found its key (the record is trusted for its inputs,
// not checked whole).
func betweenElements(before, after string) bool {
	before = strings.TrimRight(before, " \t\r\n")
	after = strings.TrimLeft(after, " \t\r\n")
	return before != "" && after != "" && strings.ContainsRune("[,", rune(before[len(before)-1])) && strings.ContainsRune(",]", rune(after[0]))
}

// spanIn is where s, a substring of doc (a key object as parsed from it),
// lies in doc; ok is false when s is not one.
func spanIn(doc, s string) ([2]int, bool) {
	if s == "" || doc == "" {
		return [2]int{}, false
	}
	// #nosec G103 -- only the distance between two pointers into one string is taken, and checked against the text
	start := int(uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(unsafe.StringData(doc))))
	if start < 0 || start+len(s) > len(doc) || doc[start:start+len(s)] != s {
		return [2]int{}, false
	}
	return [2]int{start, start + len(s)}, true
}
