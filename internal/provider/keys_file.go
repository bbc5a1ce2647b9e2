package provider

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/unkeyed/terraform-provider-unkey/internal/migration"
	"github.com/unkeyed/terraform-provider-unkey/internal/parallel"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

// keysFiles holds each keys_file as read, by path: one provider process
// needs the same file in several calls (planning, the prior state's
// hashes), and an export of 100,000 keys is 40 MB.
var keysFiles struct {
	sync.Mutex
	byPath map[string]loadedKeysFile
}

type loadedKeysFile struct {
	sha256 string // hex, as filesha256() writes it
	doc    string
}

// loadKeysFile reads keys_file once per process and returns its content and
// SHA-256.
func loadKeysFile(name string) (loadedKeysFile, error) {
	keysFiles.Lock()
	defer keysFiles.Unlock()
	if f, ok := keysFiles.byPath[name]; ok {
		return f, nil
	}
	doc, sum, err := readHashed(name)
	if err != nil {
		return loadedKeysFile{}, err
	}
	f := loadedKeysFile{sha256: sum, doc: doc}
	if keysFiles.byPath == nil {
		keysFiles.byPath = map[string]loadedKeysFile{}
	}
	keysFiles.byPath[name] = f
	return f, nil
}

// limitMemoryFor sets the Go runtime's soft memory limit for a process
// reading a keys_file of size bytes, unless GOMEMLIMIT says otherwise: base
// plus twice the file's size, base being memoryLimitBase for a process that
// decodes every key (a create), memoryLimitScanBase for one that only
// scans the file (a plan or apply of a changed file: 51 MB live at 100,000
// keys where decoding keeps 114 MB). By
// default the heap may grow to twice what is live before a collection; a
// 40 MB file keeps about 200 MB live at once (the file, its keys, the
// state), so the process peaked near 450 MB beside Terraform's own. The
// limit leaves room above what is live, so collections run more often only
// near the peak (the runtime caps their CPU in any case). Measured at
// 100,000 keys (40 MB): the provider's peak 430-460 MB without, 365 MB with,
// for about 0.2 s more of collection CPU in an apply. Files of a few
// megabytes are left to the runtime's defaults. A scan's base was 128 MiB
// until the apply of a changed file stopped keeping the file, which left
// its plan's process the provider's peak (217-222 MB adding or changing
// one key of 100,000). At 64 MiB it peaked at 159-180 MB, but a collection
// trace showed 97-112 MB live against a heap goal of 126-128 MB: eleven
// collections in 1.5 s, and a slightly larger live set would collect
// without pause. 96 MiB leaves about 50 MB above what is live (190 MB).
func limitMemoryFor(size, base int) {
	if size < memoryLimitFromFileSize || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := int64(base + memoryLimitPerFileByte*size)
	if current := debug.SetMemoryLimit(-1); current < math.MaxInt64 && current >= limit {
		return // a larger file's limit, already set
	}
	debug.SetMemoryLimit(limit)
}

const (
	memoryLimitFromFileSize = 8 << 20
	memoryLimitBase         = 256 << 20
	memoryLimitScanBase     = 96 << 20
	memoryLimitPerFileByte  = 2
)

// cachedKeysFile is the file loadKeysFile has read in this process, if it
// has.
func cachedKeysFile(name string) (loadedKeysFile, bool) {
	keysFiles.Lock()
	defer keysFiles.Unlock()
	f, ok := keysFiles.byPath[name]
	return f, ok
}

// readHashed reads a file into a string, hashing it on the way: one copy
// of a 40 MB export in memory, not two.
func readHashed(name string) (doc, sum string, err error) {
	f, err := os.Open(name) // #nosec G304 -- reading the file the user names is the point of keys_file
	if err != nil {
		return "", "", err
	}
	defer func() { _ = f.Close() }()
	var b strings.Builder
	if info, err := f.Stat(); err == nil {
		b.Grow(int(info.Size()))
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(&b, h), f); err != nil {
		return "", "", err
	}
	return b.String(), hex.EncodeToString(h.Sum(nil)), nil
}

// keysFileError says what is wrong with keys_file; changed is set when the
// file is readable but is not the one keys_file_sha256 names.
type keysFileError struct {
	msg     string
	changed bool
}

func (e *keysFileError) Error() string { return e.msg }

// readKeysFile reads and checks the keys of m's keys_file, which must be the
// file keys_file_sha256 names.
func readKeysFile(m keyMigrationModel) (bulkKeys, *keysFileError) {
	return checkedKeysFile(m, parseKeysDoc, memoryLimitBase)
}

// scanKeysFile is readKeysFile keeping of each key only its hash, text and
// digest (scanKeysDoc): its bulkKeys has no decoded keys, unless a document
// the stream reader had to read.
func scanKeysFile(m keyMigrationModel) (bulkKeys, *keysFileError) {
	return checkedKeysFile(m, scanKeysDoc, memoryLimitScanBase)
}

func checkedKeysFile(m keyMigrationModel, parse func(doc, hashFormat, name string) (bulkKeys, *keysJSONProblems), limitBase int) (bulkKeys, *keysFileError) {
	name, want := m.KeysFile.ValueString(), m.KeysFileSHA256.ValueString()
	f, err := loadKeysFile(name)
	if err != nil {
		return bulkKeys{}, &keysFileError{msg: fmt.Sprintf("Could not read keys_file %q: %s. keys_file is read by the provider itself, "+
			"relative to the directory Terraform runs in; write it as \"${path.module}/keys.json\".", name, err)}
	}
	if f.sha256 != want {
		return bulkKeys{}, &keysFileError{changed: true, msg: fmt.Sprintf("The SHA-256 of keys_file %q is %s, but keys_file_sha256 is %q. Nothing was sent to Unkey. "+
			"If this is the apply of a saved plan, the file changed between plan and apply: run `terraform plan` again to plan from the file as it is now. "+
			"Otherwise set keys_file_sha256 = filesha256(%q), so that Terraform sees every change of the file.", name, f.sha256, want, name)}
	}
	limitMemoryFor(len(f.doc), limitBase)
	bulk, problems := parse(f.doc, m.HashFormat.ValueString(), name)
	if problems != nil {
		return bulk, &keysFileError{msg: fmt.Sprintf("keys_file %q is not valid:\n%s", name, problems.Error())}
	}
	return bulk, nil
}

// keysFileDiags reports a keys_file problem on the attribute. At apply, a
// hash that differs from the planned one means the file changed after the
// plan, and nothing may be sent: the plan described another file.
func keysFileDiags(err *keysFileError, applying bool) diag.Diagnostics {
	var diags diag.Diagnostics
	switch {
	case err == nil:
	case applying && err.changed:
		diags.AddAttributeError(path.Root("keys_file"), "keys_file changed between plan and apply", err.msg)
	case err.changed:
		diags.AddAttributeError(path.Root("keys_file"), "keys_file does not match keys_file_sha256", err.msg)
	default:
		diags.AddAttributeError(path.Root("keys_file"), "Invalid keys_file", err.msg)
	}
	return diags
}

// keysFileRecord is what a migration from keys_file keeps in private state
// instead of the file: enough to send only added hashes and update only
// changed keys without the file the state was applied from.
type keysFileRecord struct {
	// Packed is the digests of the migrated hashes' settings as last
	// applied, in the order of the sorted hashes of key_ids_json, written
	// by packDigests: 0.8 MB at 100,000 keys of the realistic mix.
	// Terraform keeps several copies of the private state in memory (each
	// megabyte of it raised Terraform's peak by tens of megabytes), and
	// the framework and the state file each encode it in base64 again.
	Packed string `json:"digest_columns,omitempty"`
	// Rows is how the provider kept the digests before Packed, and is only
	// read: digestLen bytes per hash in order, base64 (2.1 MB at 100,000
	// keys). The next apply that writes the record writes Packed instead.
	Rows string `json:"digests,omitempty"`
	// Pending counts the file's hashes Unkey has not answered for.
	Pending int `json:"pending,omitempty"`
	// Stale: an update or removal was not applied, so Unkey does not match
	// the file keys_file_sha256 names, and the next plan must read it.
	Stale bool `json:"stale,omitempty"`

	digests map[string]string // Packed by hash, once unpacked

	// digestFor, when set, is what pack packs instead of digests: an
	// apply's new record looks each digest up where it already is rather
	// than copying 100,000 of them into a map first.
	digestFor func(hash string) string
}

// keysFilePrivateKey is kept apart from privateKey: a refresh reads and
// writes that one, and needs nothing of this one.
const keysFilePrivateKey = "keys_file"

// incomplete reports whether Unkey may not match the file of the state.
func (r keysFileRecord) incomplete() bool { return r.Pending > 0 || r.Stale }

// digestsBy unpacks the digests against the record's migrated hashes. A
// packing that does not fit them gives none: every key then counts as
// changed, which sends more but misses nothing.
func (r *keysFileRecord) digestsBy(rec migrationRecord) map[string]string {
	if r.digests != nil {
		return r.digests
	}
	r.digests = make(map[string]string, len(rec.KeyIDs))
	hashes := sortedKeys(rec.KeyIDs)
	raw, ok := r.unpacked(len(hashes))
	if !ok {
		return r.digests
	}
	for i, h := range hashes {
		r.digests[h] = string(raw[i*digestLen : (i+1)*digestLen])
	}
	return r.digests
}

// digestLookup gives the digest of each migrated hash of rec as digestsBy
// does, without unpacking all of them into a map (at 100,000 keys 80 ms of
// an apply that sends or updates one key): a binary search in the sorted
// hashes, or the next one when the hashes are asked in order, as pack asks
// them. Not for concurrent use.
func (r *keysFileRecord) digestLookup(rec migrationRecord) func(hash string) string {
	if r.digests != nil {
		return func(h string) string { return r.digests[h] }
	}
	hashes := sortedKeys(rec.KeyIDs)
	raw, ok := r.unpacked(len(hashes))
	if !ok {
		return func(string) string { return "" }
	}
	next := 0
	return func(h string) string {
		i := next
		if i >= len(hashes) || hashes[i] != h {
			var found bool
			if i, found = slices.BinarySearch(hashes, h); !found {
				return ""
			}
		}
		next = i + 1
		return string(raw[i*digestLen : (i+1)*digestLen])
	}
}

// pack writes the digests of the record's migrated hashes into Packed; a
// hash without one gets zeros, which no settings digest to.
func (r *keysFileRecord) pack(rec migrationRecord) {
	hashes := sortedKeys(rec.KeyIDs)
	raw := make([]byte, 0, len(hashes)*digestLen)
	var none [digestLen]byte
	digest := r.digestFor
	if digest == nil {
		digest = func(h string) string { return r.digests[h] }
	}
	for _, h := range hashes {
		if d := digest(h); len(d) == digestLen {
			raw = append(raw, d...)
		} else {
			raw = append(raw, none[:]...)
		}
	}
	r.Packed, r.Rows = packDigests(raw), ""
}

// unpacked is the digests of n hashes, digestLen bytes each in the order of
// the sorted hashes, from whichever packing the record holds; ok is false
// when it does not hold exactly n.
func (r *keysFileRecord) unpacked(n int) ([]byte, bool) {
	if r.Packed == "" && r.Rows != "" {
		raw, err := base64.StdEncoding.DecodeString(r.Rows)
		return raw, err == nil && len(raw) == n*digestLen
	}
	return unpackDigests(r.Packed, n)
}

// packDigests writes digests (digestLen bytes per hash) part by part, each
// part's column of every hash in a row, compressed and in base64. A column
// of the same part repeats few values (at 100,000 keys of the realistic
// mix: 30 distinct credits digests, 3 of roles, 3 of permissions), which
// compresses to almost nothing where the digests side by side do not:
// 1.6 MB of digests pack to 0.6 MB, against 1.6 MB uncompressed.
func packDigests(rows []byte) string {
	n := len(rows) / digestLen
	columns := make([]byte, len(rows))
	for i := range n {
		for part := range digestParts {
			copy(columns[(part*n+i)*digestPartLen:], rows[i*digestLen+part*digestPartLen:i*digestLen+(part+1)*digestPartLen])
		}
	}
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed) // only fails for an invalid level
	_, _ = w.Write(columns)                      // a bytes.Buffer does not fail
	_ = w.Close()
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// unpackDigests reads packDigests' packing of n hashes' digests back into
// rows of digestLen bytes; ok is false unless it holds exactly n.
func unpackDigests(packed string, n int) ([]byte, bool) {
	compressed, err := base64.StdEncoding.DecodeString(packed)
	if err != nil {
		return nil, false
	}
	columns := make([]byte, n*digestLen)
	rd := flate.NewReader(bytes.NewReader(compressed))
	if _, err := io.ReadFull(rd, columns); err != nil {
		return nil, false
	}
	if extra, err := rd.Read(make([]byte, 1)); extra != 0 || err != io.EOF {
		return nil, false
	}
	rows := make([]byte, n*digestLen)
	for i := range n {
		for part := range digestParts {
			copy(rows[i*digestLen+part*digestPartLen:], columns[(part*n+i)*digestPartLen:(part*n+i+1)*digestPartLen])
		}
	}
	return rows, true
}

func readKeysFileRecord(ctx context.Context, p privateGetter) (keysFileRecord, diag.Diagnostics) {
	raw, diags := p.GetKey(ctx, keysFilePrivateKey)
	var r keysFileRecord
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r); err != nil {
			diags.AddError("Unreadable private state", "This is a bug in the provider: "+err.Error())
		}
	}
	return r, diags
}

// writeKeysFileRecord saves r, its digests packed against rec; nil removes
// it.
func writeKeysFileRecord(ctx context.Context, p privateSetter, r *keysFileRecord, rec migrationRecord) diag.Diagnostics {
	if r == nil {
		return p.SetKey(ctx, keysFilePrivateKey, nil)
	}
	r.pack(rec)
	raw, err := json.Marshal(r)
	if err != nil {
		var diags diag.Diagnostics
		diags.AddError("Could not save private state", err.Error())
		return diags
	}
	return p.SetKey(ctx, keysFilePrivateKey, raw)
}

// A digest has one part per group of settings that Unkey updates apart, so
// that a changed key is updated in the changed group only: credits above
// all, whose update resets the remaining count and must not be sent for a
// new name.
const (
	digestFieldsPart = iota // name, externalId, meta, expires, enabled, ratelimits: one keys.updateKey
	digestCreditsPart
	digestRolesPart
	digestPermissionsPart
	digestParts
)

// digestPartLen is 4 bytes of SHA-256 per part: a change goes unnoticed
// with a chance of one in four billion.
const (
	digestPartLen = 4
	digestLen     = digestParts * digestPartLen
)

var digestFieldsUpdated = []unkeyclient.Field{
	unkeyclient.FieldName, unkeyclient.FieldExternalID, unkeyclient.FieldMeta, unkeyclient.FieldExpires,
	unkeyclient.FieldEnabled, unkeyclient.FieldRatelimits,
}

// settingsDigest is a short digest of a key's settings, part by part, of
// digestLen bytes. Each value is written with its length or a marker for
// absent, so that no two settings write the same bytes.
func settingsDigest(k unkeyclient.Key) string {
	var parts [digestParts][]byte
	str := func(b []byte, s *string) []byte {
		if s == nil {
			return append(b, 0)
		}
		b = binary.AppendUvarint(append(b, 1), uint64(len(*s)))
		return append(b, *s...)
	}
	num := func(b []byte, n *int64) []byte {
		if n == nil {
			return append(b, 0)
		}
		return binary.AppendVarint(append(b, 1), *n)
	}
	list := func(b []byte, items []string) []byte {
		b = binary.AppendUvarint(b, uint64(len(items)))
		for i := range items {
			b = str(b, &items[i])
		}
		return b
	}
	f := str(nil, k.Name)
	f = str(f, k.ExternalID)
	if k.Meta == nil {
		f = append(f, 0)
	} else {
		f = writeMeta(append(f, 1), k.Meta)
	}
	f = num(f, k.ExpiresMs)
	f = append(f, boolByte(k.Enabled))
	f = binary.AppendUvarint(f, uint64(len(k.Ratelimits)))
	for _, rl := range k.Ratelimits {
		f = str(f, &rl.Name)
		f = num(num(f, &rl.Limit), &rl.DurationMs)
		f = append(f, boolByte(rl.AutoApply))
	}
	parts[digestFieldsPart] = f
	if c := k.Credits; c == nil {
		parts[digestCreditsPart] = []byte{0}
	} else {
		b := num([]byte{1}, &c.Remaining)
		if r := c.Refill; r != nil {
			b = num(num(str(append(b, 1), &r.Interval), &r.Amount), r.RefillDay)
		}
		parts[digestCreditsPart] = b
	}
	parts[digestRolesPart] = list(nil, k.Roles)
	parts[digestPermissionsPart] = list(nil, k.Permissions)
	out := make([]byte, 0, digestLen)
	for _, p := range parts {
		sum := sha256.Sum256(p)
		out = append(out, sum[:digestPartLen]...)
	}
	return string(out)
}

// digestMemo keeps the digests of one parsed document: planning, the
// re-planning at apply and the apply itself each need every key's.
type digestMemo struct {
	sync.Mutex
	m        map[string]string
	complete bool // every key's is in m
}

// fillDigests computes every key's digest, on every CPU at once.
func (b bulkKeys) fillDigests() {
	b.memo.Lock()
	defer b.memo.Unlock()
	if b.memo.complete {
		return
	}
	digests := make([]string, len(b.hashes))
	parallel.Chunks(len(b.hashes), func(from, to int) {
		for i := from; i < to; i++ {
			digests[i] = settingsDigest(b.keys[b.hashes[i]])
		}
	})
	for i, h := range b.hashes {
		b.memo.m[h] = digests[i]
	}
	b.memo.complete = true
}

// digestsWhile works out the planned keys' digests while work runs: at
// 100,000 keys they take half a second of CPU, which a migration waiting
// for Unkey's answers has to spare. They start once work says its first
// request is leaving (or work ends): before that, the CPUs are busy
// preparing it.
func digestsWhile(plan keyMigrationModel, planned map[string]unkeyclient.Key, work func(sending func())) func(hash string) string {
	var digest func(hash string) string
	start, done := make(chan struct{}), make(chan struct{})
	var once sync.Once
	begin := func() { once.Do(func() { close(start) }) }
	go func() {
		defer close(done)
		<-start
		digest = digestOf(plan, planned)
	}()
	work(begin)
	begin()
	<-done
	return digest
}

// digest is the settings digest of the key of hash, computed once.
func (b bulkKeys) digest(hash string) string {
	b.memo.Lock()
	defer b.memo.Unlock()
	d, ok := b.memo.m[hash]
	if !ok {
		d = settingsDigest(b.keys[hash])
		b.memo.m[hash] = d
	}
	return d
}

// digestOf gives the settings digest of each planned key: remembered with
// the parsed file for keys_file, computed for the other inputs.
func digestOf(plan keyMigrationModel, planned map[string]unkeyclient.Key) func(hash string) string {
	if plan.usesKeysFile() {
		if bulk, err := readKeysFile(plan); err == nil {
			bulk.fillDigests()
			return bulk.digest
		}
	}
	return func(h string) string { return settingsDigest(planned[h]) }
}

// writeMeta writes a meta object as decoded from JSON (with UseNumber) in
// one canonical form, keys sorted, without encoding/json's reflection.
func writeMeta(b []byte, v any) []byte {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = binary.AppendUvarint(append(b, 'o'), uint64(len(keys)))
		for _, k := range keys {
			b = binary.AppendUvarint(b, uint64(len(k)))
			b = writeMeta(append(b, k...), v[k])
		}
		return b
	case []any:
		b = binary.AppendUvarint(append(b, 'a'), uint64(len(v)))
		for _, e := range v {
			b = writeMeta(b, e)
		}
		return b
	case string:
		return append(binary.AppendUvarint(append(b, 's'), uint64(len(v))), v...)
	case json.Number:
		return append(binary.AppendUvarint(append(b, 'n'), uint64(len(v))), v...)
	case bool:
		return append(b, 'b', boolByte(v))
	case nil:
		return append(b, 'z')
	default: // not from JSON; encoded as JSON would
		raw, _ := json.Marshal(v)
		return append(binary.AppendUvarint(append(b, 'j'), uint64(len(raw))), raw...)
	}
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// changeFromDigest is what must be sent to bring a key whose settings had
// the digest old to those of the digest now. A digest that cannot be read
// sends everything.
func changeFromDigest(old, now string) settingsChange {
	differs := func(part int) bool {
		return len(old) != digestLen || old[part*digestPartLen:(part+1)*digestPartLen] != now[part*digestPartLen:(part+1)*digestPartLen]
	}
	var c settingsChange
	if differs(digestFieldsPart) {
		c.fields = append(c.fields, digestFieldsUpdated...)
	}
	if differs(digestCreditsPart) {
		c.fields = append(c.fields, unkeyclient.FieldCredits)
	}
	c.rolesChanged = differs(digestRolesPart)
	c.permissionsChanged = differs(digestPermissionsPart)
	return c
}

// checkPlannedKeysFile refuses, at apply, a keys_file that is not the file
// planned.
func checkPlannedKeysFile(plan keyMigrationModel) diag.Diagnostics {
	if !plan.usesKeysFile() {
		return nil
	}
	_, err := readKeysFile(plan)
	return keysFileDiags(err, true)
}

// upToDate reports whether the plan asks for exactly what the state holds,
// fully applied: then nothing is compared, and a keys_file is not read.
func upToDate(plan, state keyMigrationModel, rec migrationRecord, fr keysFileRecord) bool {
	if !sameInput(plan, state) || pendingHashes(state, rec, fr) > 0 {
		return false
	}
	return !state.usesKeysFile() || !fr.Stale
}

// keysFileUnchanged reports whether plan and state name the same keys_file
// by its hash, fully applied: then the file is not read.
func keysFileUnchanged(plan, state keyMigrationModel, fr keysFileRecord) bool {
	return plan.usesKeysFile() && state.usesKeysFile() && sameInput(plan, state) && !fr.incomplete()
}

// planChangesByDigest compares the planned keys with the digests of the
// keys as last applied from a keys_file.
func planChangesByDigest(planned []string, digest func(hash string) string, rec migrationRecord, old func(hash string) string) keyMigrationChanges {
	c := keyMigrationChanges{changes: map[string]settingsChange{}}
	mc := migration.PlanChanges(planned, rec, func(h string) bool {
		ch := changeFromDigest(old(h), digest(h))
		if ch.empty() {
			return false
		}
		c.changes[h] = ch
		return true
	})
	c.send, c.update, c.remove = mc.Send, mc.Update, mc.Remove
	return c
}

// lastChanges remembers the last comparison of a keys_file with its state's
// digests: the apply's provider process plans again (ModifyPlan), then
// applies (Update), from the same inputs, and at 100,000 keys comparing
// takes a third of a second each time.
var lastChanges struct {
	sync.Mutex
	inputs  changesInputs
	changes keyMigrationChanges
	ok      bool
}

// changesInputs is everything planChangesByDigest's result depends on.
type changesInputs struct {
	file, sha256, hashFormat    string
	keysJSON                    string
	keyIDs, failed, unconfirmed string
	packed, rows                string
	pending                     int
	stale                       bool
}

// rememberedChanges is compare's result, or the remembered one when the
// inputs are the same. A keys map is not one comparable value, so its
// comparison is never remembered.
func rememberedChanges(plan, state keyMigrationModel, fr keysFileRecord, compare func() keyMigrationChanges) keyMigrationChanges {
	if !plan.keyIDsAsJSON() {
		return compare()
	}
	in := changesInputsOf(plan, state, fr)
	lastChanges.Lock()
	defer lastChanges.Unlock()
	if !lastChanges.ok || lastChanges.inputs != in {
		lastChanges.inputs, lastChanges.changes, lastChanges.ok = in, compare(), true
	}
	return lastChanges.changes.clone()
}

func changesInputsOf(plan, state keyMigrationModel, fr keysFileRecord) changesInputs {
	return changesInputs{
		file: plan.KeysFile.ValueString(), sha256: plan.KeysFileSHA256.ValueString(), hashFormat: plan.HashFormat.ValueString(),
		keysJSON: plan.KeysJSON.ValueString(),
		keyIDs:   state.KeyIDsJSON.ValueString(), failed: state.FailedHashes.String(), unconfirmed: state.UnconfirmedHashes.String(),
		packed: fr.Packed, rows: fr.Rows, pending: fr.Pending, stale: fr.Stale,
	}
}

// clone is a copy of c that callers may append to.
func (c keyMigrationChanges) clone() keyMigrationChanges {
	return keyMigrationChanges{send: slices.Clone(c.send), update: slices.Clone(c.update), remove: slices.Clone(c.remove), changes: maps.Clone(c.changes)}
}

// newKeysFileRecord is the keys_file record after an apply of planned:
// every migrated hash's digest is its planned key's, except for the hashes
// in notDone (updates or removals not applied), which keep their old one.
func newKeysFileRecord(rec migrationRecord, planned map[string]unkeyclient.Key, digest, old func(hash string) string, notDone []string) keysFileRecord {
	kept := make(map[string]bool, len(notDone))
	for _, h := range notDone {
		kept[h] = true
	}
	r := keysFileRecord{Stale: len(notDone) > 0}
	r.digestFor = func(h string) string {
		if _, ok := planned[h]; ok && !kept[h] {
			return digest(h)
		}
		if old != nil {
			return old(h)
		}
		return ""
	}
	for h := range planned {
		if !rec.Accounted(h) {
			r.Pending++
		}
	}
	return r
}

// oldDigests gives the digest of a key's settings as the state holds them.
// A keys_file state's digests are unpacked on the first call: an apply
// that only adds hashes asks for none. before must not change afterwards.
func oldDigests(ctx context.Context, state keyMigrationModel, fr *keysFileRecord, before migrationRecord) func(hash string) string {
	if state.usesKeysFile() {
		var lookup func(hash string) string
		return func(h string) string {
			if lookup == nil {
				lookup = fr.digestLookup(before)
			}
			return lookup(h)
		}
	}
	var old map[string]unkeyclient.Key
	return func(h string) string {
		if old == nil {
			old, _ = desiredKeys(ctx, state)
		}
		k, ok := old[h]
		if !ok {
			return ""
		}
		return settingsDigest(k)
	}
}
