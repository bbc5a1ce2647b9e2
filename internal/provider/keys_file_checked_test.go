package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/unkeyed/terraform-provider-unkey/internal/migration"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

// checkedFixture is a keys_file state (its record and digests) and a new
// file planned against it, written where a test can change either.
type checkedFixture struct {
	plan, state keyMigrationModel
	fr          keysFileRecord
	rec         migrationRecord
}

func newCheckedFixture(t *testing.T) checkedFixture {
	t.Helper()
	t.Setenv(migration.DirEnv, t.TempDir())
	dir := t.TempDir()
	hash := func(i int) string {
		sum := sha256.Sum256(fmt.Appendf(nil, "checked_%d", i))
		return base64.StdEncoding.EncodeToString(sum[:])
	}
	key := func(i int, name string) map[string]any {
		k := map[string]any{"hash": hash(i), "name": name, "meta": map[string]any{"n": i, "plan": "pro"}}
		if i%3 == 0 {
			k["credits"] = map[string]any{"remaining": 10}
			k["roles"] = []string{"customer"}
		}
		return k
	}
	write := func(name string, keys []map[string]any) keyMigrationModel {
		raw, err := json.Marshal(keys)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		return keyMigrationModel{MigrationID: types.StringValue("mig"), APIID: types.StringValue("api"), HashFormat: types.StringValue("sha256_base64"),
			KeysFile: types.StringValue(p), KeysFileSHA256: types.StringValue(hex.EncodeToString(sum[:])), KeysJSON: types.StringNull(), Keys: types.MapNull(types.StringType)}
	}
	var before, after []map[string]any
	for i := range 40 {
		before = append(before, key(i, fmt.Sprintf("customer %d", i)))
	}
	for i := range 45 {
		switch i {
		case 3: // removed
		case 5:
			after = append(after, key(i, "renamed"))
		case 6:
			k := key(i, "customer 6")
			k["credits"] = map[string]any{"remaining": 99}
			after = append(after, k)
		default:
			after = append(after, key(i, fmt.Sprintf("customer %d", i)))
		}
	}
	f := checkedFixture{state: write("before.json", before), plan: write("after.json", after), rec: migration.NewRecord()}
	applied, problems := readKeysFile(f.state)
	if problems != nil {
		t.Fatal(problems)
	}
	for i := range 36 {
		f.rec.KeyIDs[hash(i)] = fmt.Sprintf("key_%d", i)
	}
	f.rec.Failed[hash(36)] = true
	f.rec.Unconfirmed[hash(37)] = true // 38 and 39 still pending
	f.fr = keysFileRecord{digestFor: applied.digest, Pending: 2}
	f.fr.pack(f.rec)
	f.fr.digestFor = nil
	f.state.FailedHashes, _ = types.SetValueFrom(context.Background(), types.StringType, sortedKeys(f.rec.Failed))
	f.state.UnconfirmedHashes, _ = types.SetValueFrom(context.Background(), types.StringType, sortedKeys(f.rec.Unconfirmed))
	ids, err := encodeKeyIDsJSON(f.rec.KeyIDs)
	if err != nil {
		t.Fatal(err)
	}
	f.state.KeyIDsJSON = types.StringValue(ids)
	return f
}

// wholeFileChanges compares the way every key_file plan did before the
// scan and the checked plan: the whole file decoded, every key digested.
func wholeFileChanges(t *testing.T, f checkedFixture) (map[string]unkeyclient.Key, keyMigrationChanges) {
	t.Helper()
	full, problems := readKeysFile(f.plan)
	if problems != nil {
		t.Fatal(problems)
	}
	digests := (&keysFileRecord{Packed: f.fr.Packed}).digestsBy(f.rec)
	return full.keys, planChangesByDigest(sortedKeys(full.keys), full.digest, f.rec, func(h string) string { return digests[h] })
}

// A plan and an apply from one keys_file to another plan and apply exactly
// what comparing the whole decoded file finds, whether they scan the file
// (the plan) or trust the plan's record (the apply): the same changes, and
// the same keys for every hash sent or updated.
func TestCheckedPlanAsTheFullPath(t *testing.T) {
	f := newCheckedFixture(t)
	full, want := wholeFileChanges(t, f)
	if len(want.send) != 7 || len(want.update) != 2 || len(want.remove) != 1 {
		t.Fatalf("the fixture plans %d sends, %d updates, %d removals; want 7, 2, 1", len(want.send), len(want.update), len(want.remove))
	}
	if _, _, ok := plannedFromCheckedPlan(f.plan, f.state, f.fr, f.rec); ok {
		t.Fatal("a checked plan before any comparison")
	}
	_, got, diags := changesFrom(context.Background(), f.state, f.plan, f.rec, f.fr)
	if diags.HasError() || !reflect.DeepEqual(got, want) {
		t.Fatalf("the plan's scan found %+v (%v)\nwant %+v", got, diags, want)
	}
	scanned, wantKeys := map[string]unkeyclient.Key(nil), append(slices.Clone(want.send), want.update...)
	for _, from := range []string{"a checked plan", "a scan"} {
		if from == "a scan" {
			if err := os.Remove(checkedPlanPath(f.plan)); err != nil {
				t.Fatal(err)
			}
		}
		keys, got, diags := fileChanges(f.plan, f.state, f.rec, f.fr, true)
		if diags.HasError() || !reflect.DeepEqual(got, want) {
			t.Errorf("the apply from %s found %+v (%v)\nwant %+v", from, got, diags, want)
		}
		if len(keys) != len(wantKeys) {
			t.Errorf("the apply from %s decoded %d keys, want the %d sent or updated", from, len(keys), len(wantKeys))
		}
		for _, h := range wantKeys {
			if !reflect.DeepEqual(keys[h], full[h]) {
				t.Errorf("the apply from %s: key %s is %+v, the whole file gives %+v", from, h, keys[h], full[h])
			}
		}
		scanned = keys
	}
	if _, _, ok := plannedFromCheckedPlan(f.plan, f.state, f.fr, f.rec); !ok || scanned == nil {
		t.Error("the apply's scan left no checked plan")
	}
}

// The scan keeps no decoded key, and checks and digests every key as the
// whole file's parse does.
func TestScanAsTheWholeParse(t *testing.T) {
	f := newCheckedFixture(t)
	full, problems := readKeysFile(f.plan)
	scan, scanProblems := scanKeysFile(f.plan)
	if problems != nil || scanProblems != nil {
		t.Fatal(problems, scanProblems)
	}
	if scan.keys != nil || !slices.Equal(scan.hashes, full.hashes) || !maps.Equal(scan.raw, full.raw) {
		t.Fatalf("the scan kept %d keys and %d hashes (%d texts); the whole parse %d hashes", len(scan.keys), len(scan.hashes), len(scan.raw), len(full.hashes))
	}
	for _, h := range full.hashes {
		if scan.digest(h) != settingsDigest(full.keys[h]) {
			t.Errorf("the scan's digest of %s differs", h)
		}
	}
	h := `"` + full.hashes[0] + `"`
	for _, doc := range []string{
		`[{"hash": ` + h + `, "name": "a"}, {"hash": ` + h + `, "name": "b"}]`,
		`[{"hash": ` + h + `, "name": ""}, {"hash": "x", "roles": ["a", "a"]}, {"hash": ` + h + `, "title": "b"}]`,
		`[{"hash": ` + h + `, "credits": {"remaining": -1}}, {"hash": ` + h + `, "expires": "soon"}]`,
		`[{"hash": ` + h + `}, {"hash": ]`,
		`[]`,
	} {
		_, want := parseKeysDoc(doc, "sha256_base64", "keys.json")
		_, got := scanKeysDoc(doc, "sha256_base64", "keys.json")
		if want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("%s: the scan says\n%v\nthe whole parse\n%v", doc, got, want)
		}
	}
}

// A record of other inputs, or of a file that is not the planned one, is
// not trusted: the whole file is parsed and checked again.
func TestCheckedPlanOnlyForItsInputs(t *testing.T) {
	f := newCheckedFixture(t)
	if _, _, diags := changesFrom(context.Background(), f.state, f.plan, f.rec, f.fr); diags.HasError() {
		t.Fatal(diags)
	}
	changed := map[string]func(c *checkedFixture){
		"another state":    func(c *checkedFixture) { c.state.KeyIDsJSON = types.StringValue(`{}`) },
		"other digests":    func(c *checkedFixture) { c.fr.Packed = "" },
		"a stale state":    func(c *checkedFixture) { c.fr.Stale = true },
		"another format":   func(c *checkedFixture) { c.plan.HashFormat = types.StringNull() },
		"another file sum": func(c *checkedFixture) { c.plan.KeysFileSHA256 = c.state.KeysFileSHA256 },
	}
	for name, change := range changed {
		c := f
		change(&c)
		if _, _, ok := plannedFromCheckedPlan(c.plan, c.state, c.fr, c.rec); ok {
			t.Errorf("%s: the checked plan was trusted", name)
		}
	}
	if err := os.WriteFile(f.plan.KeysFile.ValueString(), []byte("[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	keysFiles.Lock()
	delete(keysFiles.byPath, f.plan.KeysFile.ValueString()) // as a new process would read it
	keysFiles.Unlock()
	if _, _, ok := plannedFromCheckedPlan(f.plan, f.state, f.fr, f.rec); ok {
		t.Error("a checked plan was trusted for a file whose SHA-256 is not keys_file_sha256")
	}
}

// Only a span holding exactly one valid key object of the hash it is
// recorded for gives a key; anything else sends the apply to the whole file.
func TestKeysAtDecodesOnlyTheRecordedObjects(t *testing.T) {
	a, b := "aGFzaGFoYXNoYWhhc2hhaGFzaGFoYXNoYWhhc2hhaGE=", "YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI="
	objA, objB := fmt.Sprintf(`{"hash": %q, "name": "a"}`, a), fmt.Sprintf(`{"meta": {"hash": %q}, "hash": %q, "name": "b"}`, a, b)
	doc := "[" + objB + ", " + objA + "]"
	f := loadedKeysFile{doc: doc}
	spanA, ok := spanIn(doc, doc[len(objB)+3:len(objB)+3+len(objA)])
	if !ok || doc[spanA[0]:spanA[1]] != objA {
		t.Fatalf("spanIn = %v, %v", spanA, ok)
	}
	if _, ok := spanIn(doc, strings.Clone(objA)); ok {
		t.Fatal("spanIn placed a copy of the text, which is not a substring of the document")
	}
	got, ok := f.keysAt(map[string][2]int{a: spanA}, []string{a}, "", "keys_file")
	if !ok || len(got) != 1 || *got[a].Name != "a" {
		t.Fatalf("keysAt(a) = %+v, %v", got, ok)
	}
	metaA := [2]int{strings.Index(doc, `{"hash"`), strings.Index(doc, `}`) + 1}
	for name, spans := range map[string]map[string][2]int{
		"no span":               {},
		"the object of b":       {a: {1, 1 + len(objB)}},
		"an object in b's meta": {a: metaA},
		"part of an object":     {a: {spanA[0], spanA[1] - 1}},
		"past the end":          {a: {spanA[0], len(doc) + 1}},
	} {
		if _, ok := f.keysAt(spans, []string{a}, "", "keys_file"); ok {
			t.Errorf("%s: keysAt trusted it", name)
		}
	}
}

// digestLookup gives every hash the digest digestsBy unpacks for it, asked
// in order (as pack asks) or not, and none for a hash the record lacks or a
// packing that does not fit.
func TestDigestLookupAsDigestsBy(t *testing.T) {
	rec := migration.NewRecord()
	digests := map[string]string{}
	for i := range 3000 {
		h := fmt.Sprintf("hash_%05d", i*7%3001)
		rec.KeyIDs[h] = "key_" + h
		digests[h] = settingsDigest(unkeyclient.Key{Hash: h, Name: &h})
	}
	packed := keysFileRecord{digests: digests}
	packed.pack(rec)
	want := (&keysFileRecord{Packed: packed.Packed}).digestsBy(rec)
	hashes := sortedKeys(rec.KeyIDs)
	shuffled := slices.Clone(hashes)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for name, order := range map[string][]string{"in order": hashes, "every other": everyOther(hashes), "shuffled": shuffled} {
		lookup := (&keysFileRecord{Packed: packed.Packed}).digestLookup(rec)
		for _, h := range order {
			if got := lookup(h); got != want[h] || len(got) != digestLen {
				t.Fatalf("%s: digest of %s differs from digestsBy's", name, h)
			}
		}
		if got := lookup("not migrated"); got != "" {
			t.Errorf("%s: a digest for a hash the record lacks", name)
		}
	}
	rec.KeyIDs["one more"] = "key"
	if got := (&keysFileRecord{Packed: packed.Packed}).digestLookup(rec)(hashes[0]); got != "" {
		t.Error("a packing that does not fit the record gave a digest")
	}
}

func everyOther(s []string) []string {
	var out []string
	for i := 0; i < len(s); i += 2 {
		out = append(out, s[i])
	}
	return out
}

// forgetKeysFile drops what this process read of plan's keys_file, as a new
// provider process would start.
func forgetKeysFile(plan keyMigrationModel) {
	keysFiles.Lock()
	delete(keysFiles.byPath, plan.KeysFile.ValueString())
	keysFiles.Unlock()
	lastSpans.Lock()
	lastSpans.name, lastSpans.inputs, lastSpans.file = "", "", spannedFile{}
	lastSpans.Unlock()
}

// An apply's process trusting a checked plan reads the file only for its
// hash and the spans of the keys it sends or updates, keeps nothing else of
// it, and finds what the process that read the file whole finds.
func TestCheckedPlanKeepsOnlyTheSpans(t *testing.T) {
	f := newCheckedFixture(t)
	if _, _, diags := changesFrom(context.Background(), f.state, f.plan, f.rec, f.fr); diags.HasError() {
		t.Fatal(diags)
	}
	fromWhole, wantChanges, ok := plannedFromCheckedPlan(f.plan, f.state, f.fr, f.rec)
	if !ok {
		t.Fatal("no checked plan after the plan's comparison")
	}
	forgetKeysFile(f.plan)
	for _, call := range []string{"re-plan", "update"} {
		keys, changes, ok := plannedFromCheckedPlan(f.plan, f.state, f.fr, f.rec)
		if !ok || !reflect.DeepEqual(keys, fromWhole) || !reflect.DeepEqual(changes, wantChanges) {
			t.Fatalf("%s: from the spans %v, %+v, %+v; from the whole file %+v, %+v", call, ok, changes, keys, wantChanges, fromWhole)
		}
		if _, kept := cachedKeysFile(f.plan.KeysFile.ValueString()); kept {
			t.Fatalf("%s: the whole file was read and kept", call)
		}
	}
}

// readSpans cuts the same texts from the file as spansOfDoc from the file
// read whole, margins clipped at either end, and leaves out spans that do
// not fit the file, with the file's SHA-256.
func TestReadSpansAsSpansOfDoc(t *testing.T) {
	doc := "[\n" + strings.Repeat(`  {"hash": "h", "name": "a key of some length"},`+"\n", 8000) + `  {"hash": "last"}` + "\n]"
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(doc))
	rng := rand.New(rand.NewPCG(3, 4))
	spans := map[string][2]int{"start": {0, 40}, "end": {len(doc) - 30, len(doc)}, "whole": {0, len(doc)}, "past the end": {len(doc) - 5, len(doc) + 1},
		"empty": {7, 7}, "negative": {-1, 5}, "chunk edge": {256<<10 - 3, 256<<10 + 300}}
	for i := range 200 {
		start := rng.IntN(len(doc))
		spans[fmt.Sprint(i)] = [2]int{start, start + 1 + rng.IntN(min(2000, len(doc)-start))}
	}
	got, err := readSpans(path, spans)
	if err != nil {
		t.Fatal(err)
	}
	want := spansOfDoc(hex.EncodeToString(sum[:]), doc, spans)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("readSpans differs from spansOfDoc (%d and %d texts)", len(got.texts), len(want.texts))
	}
	for _, bad := range []string{"past the end", "empty", "negative"} {
		if _, ok := got.texts[spans[bad]]; ok {
			t.Errorf("a text for the span %s", bad)
		}
	}
	if text := got.texts[spans["start"]]; text.before != "" || text.item != doc[:40] || text.after != doc[40:40+spanMargin] {
		t.Errorf("the first span's text: %+v", text)
	}
}
