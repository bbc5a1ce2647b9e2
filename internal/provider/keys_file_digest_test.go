package provider

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/unkeyed/terraform-provider-unkey/internal/keygen"
	"github.com/unkeyed/terraform-provider-unkey/internal/migration"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

// A changed key is updated in the changed part of its settings only, and a
// digest that cannot be read updates everything.
func TestChangeFromDigest(t *testing.T) {
	name, other := "a", "b"
	limit := int64(5)
	base := unkeyclient.Key{Hash: "h", Name: &name, Meta: map[string]any{"plan": "pro", "seats": json.Number("3")},
		Credits: &unkeyclient.Credits{Remaining: limit}, Roles: []string{"admin"}, Enabled: true}
	with := func(f func(k *unkeyclient.Key)) unkeyclient.Key {
		k := base
		f(&k)
		return k
	}
	cases := map[string]struct {
		key                              unkeyclient.Key
		fields                           []unkeyclient.Field
		rolesChanged, permissionsChanged bool
	}{
		"nothing":               {base, nil, false, false},
		"meta in another order": {with(func(k *unkeyclient.Key) { k.Meta = map[string]any{"seats": json.Number("3"), "plan": "pro"} }), nil, false, false},
		"name":                  {with(func(k *unkeyclient.Key) { k.Name = &other }), digestFieldsUpdated, false, false},
		"name removed":          {with(func(k *unkeyclient.Key) { k.Name = nil }), digestFieldsUpdated, false, false},
		"meta number":           {with(func(k *unkeyclient.Key) { k.Meta = map[string]any{"plan": "pro", "seats": json.Number("4")} }), digestFieldsUpdated, false, false},
		"disabled":              {with(func(k *unkeyclient.Key) { k.Enabled = false }), digestFieldsUpdated, false, false},
		"credits":               {with(func(k *unkeyclient.Key) { k.Credits = &unkeyclient.Credits{Remaining: 6} }), []unkeyclient.Field{unkeyclient.FieldCredits}, false, false},
		"roles":                 {with(func(k *unkeyclient.Key) { k.Roles = nil }), nil, true, false},
		"permissions":           {with(func(k *unkeyclient.Key) { k.Permissions = []string{"read"} }), nil, false, true},
	}
	old := settingsDigest(base)
	if len(old) != digestLen {
		t.Fatalf("digest of %d bytes, want %d", len(old), digestLen)
	}
	for name, c := range cases {
		got := changeFromDigest(old, settingsDigest(c.key))
		if !slices.Equal(got.fields, c.fields) || got.rolesChanged != c.rolesChanged || got.permissionsChanged != c.permissionsChanged {
			t.Errorf("%s: got %+v", name, got)
		}
	}
	all := changeFromDigest("", settingsDigest(base))
	if len(all.fields) != len(digestFieldsUpdated)+1 || !all.rolesChanged || !all.permissionsChanged {
		t.Errorf("an unreadable digest does not update everything: %+v", all)
	}
}

// Digests packed against a record come back by hash; a packing that does
// not fit the record gives none.
func TestKeysFileRecordPacking(t *testing.T) {
	rec := migration.NewRecord()
	rec.KeyIDs["a"], rec.KeyIDs["b"] = "key_a", "key_b"
	r := keysFileRecord{digests: map[string]string{"a": string(make([]byte, digestLen)), "b": settingsDigest(unkeyclient.Key{Hash: "b"})}}
	r.pack(rec)
	back := keysFileRecord{Packed: r.Packed}
	if got := back.digestsBy(rec); got["b"] != r.digests["b"] || len(got) != 2 {
		t.Errorf("unpacked %v", got)
	}
	rec.KeyIDs["c"] = "key_c"
	if got := (&keysFileRecord{Packed: r.Packed}).digestsBy(rec); len(got) != 0 {
		t.Errorf("a packing of 2 digests read against 3 hashes gave %d", len(got))
	}
}

// The comparison an apply's re-plan made is reused by the update only for
// the very same inputs, and as a copy the update may change.
func TestRememberedChangesOnlyForTheSameInputs(t *testing.T) {
	plan := keyMigrationModel{KeysFile: types.StringValue("keys.json"), KeysFileSHA256: types.StringValue("aa"), HashFormat: types.StringNull()}
	state := keyMigrationModel{KeyIDsJSON: types.StringValue(`{"h1":"key_1"}`), FailedHashes: types.SetNull(types.StringType), UnconfirmedHashes: types.SetNull(types.StringType)}
	compared := 0
	compare := func() keyMigrationChanges {
		compared++
		return keyMigrationChanges{send: []string{fmt.Sprint("h", compared)}, changes: map[string]settingsChange{}}
	}
	first := rememberedChanges(plan, state, keysFileRecord{Packed: "x"}, compare)
	first.send[0] = "changed by the caller"
	if again := rememberedChanges(plan, state, keysFileRecord{Packed: "x"}, compare); compared != 1 || again.send[0] != "h1" {
		t.Fatalf("same inputs: compared %d times, got %v", compared, again.send)
	}
	other := plan
	other.KeysFileSHA256 = types.StringValue("bb")
	fromJSON := keyMigrationModel{KeysJSON: types.StringValue(`[{"hash":"h1"}]`), KeysFile: types.StringNull(), HashFormat: types.StringNull()}
	otherJSON := fromJSON
	otherJSON.KeysJSON = types.StringValue(`[{"hash":"h2"}]`)
	fromMap := keyMigrationModel{KeysJSON: types.StringNull(), KeysFile: types.StringNull(), HashFormat: types.StringNull()}
	changedState := state
	changedState.KeyIDsJSON = types.StringValue(`{"h1":"key_1","h2":"key_2"}`)
	for name, c := range map[string]func() keyMigrationChanges{
		"file hash": func() keyMigrationChanges {
			return rememberedChanges(other, state, keysFileRecord{Packed: "x"}, compare)
		},
		"key IDs": func() keyMigrationChanges {
			return rememberedChanges(plan, changedState, keysFileRecord{Packed: "x"}, compare)
		},
		"digests": func() keyMigrationChanges {
			return rememberedChanges(plan, state, keysFileRecord{Packed: "y"}, compare)
		},
		"pending": func() keyMigrationChanges {
			return rememberedChanges(plan, state, keysFileRecord{Packed: "x", Pending: 1}, compare)
		},
		"stale": func() keyMigrationChanges {
			return rememberedChanges(plan, state, keysFileRecord{Packed: "x", Stale: true}, compare)
		},
		"keys_json content": func() keyMigrationChanges {
			rememberedChanges(fromJSON, state, keysFileRecord{Packed: "x"}, compare)
			compared--
			return rememberedChanges(otherJSON, state, keysFileRecord{Packed: "x"}, compare)
		},
		"a keys map, never remembered": func() keyMigrationChanges {
			rememberedChanges(fromMap, state, keysFileRecord{Packed: "x"}, compare)
			compared--
			return rememberedChanges(fromMap, state, keysFileRecord{Packed: "x"}, compare)
		},
	} {
		before := compared
		if got := c(); compared != before+1 || got.send[0] != fmt.Sprint("h", compared) {
			t.Errorf("%s changed, but the remembered comparison was used: %v", name, got.send)
		}
	}
}

// An apply's new record packs each migrated hash's digest from where it is:
// the planned key's when applied, the old one for an update not applied or
// a hash no longer planned, none for a hash that has neither.
func TestNewKeysFileRecordPacksEachDigestFromItsSource(t *testing.T) {
	digestOfName := func(name string) string { return settingsDigest(unkeyclient.Key{Name: &name}) }
	rec := migration.NewRecord()
	for _, h := range []string{"applied", "notDone", "removed", "unknown"} {
		rec.KeyIDs[h] = "key_" + h
	}
	rec.Failed["failed"] = true
	planned := map[string]unkeyclient.Key{"applied": {}, "notDone": {}, "failed": {}, "pending": {}}
	newDigest := func(h string) string { return digestOfName("new " + h) }
	olds := map[string]string{"applied": digestOfName("old applied"), "notDone": digestOfName("old notDone"), "removed": digestOfName("old removed")}
	old := func(h string) string { return olds[h] }

	r := newKeysFileRecord(rec, planned, newDigest, old, []string{"notDone"})
	if !r.Stale || r.Pending != 1 {
		t.Errorf("stale %v, pending %d; want true, 1", r.Stale, r.Pending)
	}
	r.pack(rec)
	got := (&keysFileRecord{Packed: r.Packed}).digestsBy(rec)
	want := map[string]string{"applied": newDigest("applied"), "notDone": olds["notDone"], "removed": olds["removed"], "unknown": string(make([]byte, digestLen))}
	if !maps.Equal(got, want) {
		t.Errorf("packed digests %q, want %q", got, want)
	}

	// The state's digests are unpacked when first asked for, not before.
	state := keyMigrationModel{KeysFile: types.StringValue("keys.json")}
	fr := &keysFileRecord{Packed: r.Packed}
	lookup := oldDigests(context.Background(), state, fr, rec)
	if fr.digests != nil {
		t.Error("oldDigests unpacked the digests before any was asked for")
	}
	if d := lookup("removed"); d != olds["removed"] {
		t.Errorf("old digest of removed %q, want %q", d, olds["removed"])
	}
}

// A large keys_file sets a soft memory limit sized from it, never lowers one
// set for a larger file, and leaves small files and GOMEMLIMIT alone.
func TestLimitMemoryForLargeKeysFiles(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	limitMemoryFor(1<<20, memoryLimitBase)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("a 1 MB file set a limit of %d", got)
	}
	limitMemoryFor(40<<20, memoryLimitScanBase)
	if got, want := debug.SetMemoryLimit(-1), int64(memoryLimitScanBase+memoryLimitPerFileByte*(40<<20)); got != want {
		t.Fatalf("a 40 MB file scanned: limit %d, want %d", got, want)
	}
	limitMemoryFor(40<<20, memoryLimitBase)
	want := int64(memoryLimitBase + memoryLimitPerFileByte*(40<<20))
	if got := debug.SetMemoryLimit(-1); got != want {
		t.Fatalf("a 40 MB file: limit %d, want %d", got, want)
	}
	limitMemoryFor(10<<20, memoryLimitBase)
	if got := debug.SetMemoryLimit(-1); got != want {
		t.Fatalf("a smaller file after it lowered the limit to %d", got)
	}
	limitMemoryFor(40<<20, memoryLimitScanBase)
	if got := debug.SetMemoryLimit(-1); got != want {
		t.Fatalf("a scan after a whole decode lowered the limit to %d", got)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOMEMLIMIT", "1GiB")
	limitMemoryFor(40<<20, memoryLimitBase)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("GOMEMLIMIT was overridden: %d", got)
	}
}

// Digests of the realistic mix pack to at most 60% of their rows in base64
// (at 10,000 keys; 38% at 100,000), the form the provider kept them in before: every byte of private
// state costs Terraform tens of bytes of memory on every command.
func TestKeysFileRecordPacksRealisticDigestsSmall(t *testing.T) {
	raws, settings := keygen.Generate(10000, 1)
	keys, err := keygen.MigrateKeys(raws, settings)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(keys)
	if err != nil {
		t.Fatal(err)
	}
	bulk, problems := parseKeysJSON(string(doc), "")
	if problems != nil {
		t.Fatal(problems)
	}
	rec := migration.NewRecord()
	r := keysFileRecord{digests: map[string]string{}}
	for _, h := range bulk.hashes {
		rec.KeyIDs[h] = "key_" + h[:8]
		r.digests[h] = settingsDigest(bulk.keys[h])
	}
	r.pack(rec)
	rows := base64.StdEncoding.EncodedLen(len(bulk.hashes) * digestLen)
	if len(r.Packed) > rows*6/10 {
		t.Errorf("%d digests packed into %d bytes, want at most 60%% of their %d bytes as rows in base64", len(bulk.hashes), len(r.Packed), rows)
	}
	if got := (&keysFileRecord{Packed: r.Packed}).digestsBy(rec); !maps.Equal(got, r.digests) {
		t.Error("the packed digests do not come back as they were")
	}
}

// A record kept by an earlier build (the digests as rows of digestLen bytes
// in base64, under "digests") is read as it was written, by digestsBy and
// digestLookup alike, and the next pack writes only the new packing.
func TestKeysFileRecordReadsDigestRows(t *testing.T) {
	rec := migration.NewRecord()
	var rows []byte
	want := map[string]string{}
	for i := range 50 {
		h := fmt.Sprintf("hash_%02d", i)
		name := fmt.Sprint("key ", i)
		rec.KeyIDs[h] = "key_" + h
		want[h] = settingsDigest(unkeyclient.Key{Hash: h, Name: &name})
	}
	for _, h := range sortedKeys(rec.KeyIDs) {
		rows = append(rows, want[h]...)
	}
	var legacy keysFileRecord
	if err := json.Unmarshal([]byte(`{"digests":"`+base64.StdEncoding.EncodeToString(rows)+`","pending":2}`), &legacy); err != nil {
		t.Fatal(err)
	}
	if got := (&legacy).digestsBy(rec); !maps.Equal(got, want) {
		t.Fatalf("digest rows read as %d digests, want the %d written", len(got), len(want))
	}
	lookup := (&keysFileRecord{Rows: legacy.Rows}).digestLookup(rec)
	for h, d := range want {
		if lookup(h) != d {
			t.Fatalf("digestLookup of %s differs from the row written", h)
		}
	}
	legacy.pack(rec)
	raw, err := json.Marshal(legacy)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `"digests"`) || !strings.Contains(string(raw), `"digest_columns"`) || !strings.Contains(string(raw), `"pending":2`) {
		t.Errorf("repacked record: %s", raw)
	}
	rec.KeyIDs["one more"] = "key"
	if got := (&keysFileRecord{Rows: legacy.Rows}).digestsBy(rec); len(got) != 0 {
		t.Error("digest rows that do not fit the record gave digests")
	}
}

// A packing is read back only for exactly the number of hashes it holds.
func TestUnpackDigestsChecksTheCount(t *testing.T) {
	rows := make([]byte, 3*digestLen)
	for i := range rows {
		rows[i] = byte(i)
	}
	packed := packDigests(rows)
	if got, ok := unpackDigests(packed, 3); !ok || !bytes.Equal(got, rows) {
		t.Fatalf("unpacked %v, %v", got, ok)
	}
	for _, n := range []int{0, 2, 4} {
		if _, ok := unpackDigests(packed, n); ok {
			t.Errorf("a packing of 3 digests read as %d", n)
		}
	}
	if _, ok := unpackDigests("not base64!", 3); ok {
		t.Error("a packing that is not base64 was read")
	}
	if _, ok := unpackDigests(base64.StdEncoding.EncodeToString(rows), 3); ok {
		t.Error("rows that are not compressed were read as a packing")
	}
}
