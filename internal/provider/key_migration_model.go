package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/unkeyed/terraform-provider-unkey/internal/migration"
	"github.com/unkeyed/terraform-provider-unkey/internal/plainjson"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

type keyMigrationModel struct {
	ID                types.String `tfsdk:"id"`
	MigrationID       types.String `tfsdk:"migration_id"`
	APIID             types.String `tfsdk:"api_id"`
	HashFormat        types.String `tfsdk:"hash_format"`
	BatchSize         types.Int64  `tfsdk:"batch_size"`
	DeletionPolicy    types.String `tfsdk:"deletion_policy"`
	Keys              types.Map    `tfsdk:"keys"`
	KeysJSON          types.String `tfsdk:"keys_json"`
	KeysFile          types.String `tfsdk:"keys_file"`
	KeysFileSHA256    types.String `tfsdk:"keys_file_sha256"`
	ChangeSummary     types.String `tfsdk:"change_summary"`
	KeyIDs            types.Map    `tfsdk:"key_ids"`
	KeyIDsJSON        types.String `tfsdk:"key_ids_json"`
	FailedHashes      types.Set    `tfsdk:"failed_hashes"`
	UnconfirmedHashes types.Set    `tfsdk:"unconfirmed_hashes"`

	// keysMap, when set, holds the keys map in place of Keys: keysMapServer
	// took it out of the request and read it without the framework.
	keysMap *keysMap `tfsdk:"-"`
}

type keySettingsModel struct {
	Name        types.String         `tfsdk:"name"`
	ExternalID  types.String         `tfsdk:"external_id"`
	Meta        jsontypes.Normalized `tfsdk:"meta"`
	Roles       []string             `tfsdk:"roles"`
	Permissions []string             `tfsdk:"permissions"`
	Expires     types.String         `tfsdk:"expires"`
	Enabled     types.Bool           `tfsdk:"enabled"`
	Credits     *creditsModel        `tfsdk:"credits"`
	Ratelimits  []ratelimitModel     `tfsdk:"ratelimits"`
}

type creditsModel struct {
	Remaining types.Int64  `tfsdk:"remaining"`
	Refill    *refillModel `tfsdk:"refill"`
}

type refillModel struct {
	Interval  types.String `tfsdk:"interval"`
	Amount    types.Int64  `tfsdk:"amount"`
	RefillDay types.Int64  `tfsdk:"refill_day"`
}

type ratelimitModel struct {
	Name      types.String `tfsdk:"name"`
	Limit     types.Int64  `tfsdk:"limit"`
	Duration  types.String `tfsdk:"duration"`
	AutoApply types.Bool   `tfsdk:"auto_apply"`
}

// migrationRecord is what the resource knows of every hash it was given.
type migrationRecord = migration.Record

func recordFrom(ctx context.Context, m keyMigrationModel) (migrationRecord, diag.Diagnostics) {
	var diags diag.Diagnostics
	rec := migration.NewRecord()
	if !m.KeyIDs.IsNull() && !m.KeyIDs.IsUnknown() {
		diags.Append(m.KeyIDs.ElementsAs(ctx, &rec.KeyIDs, false)...)
	}
	if !m.KeyIDsJSON.IsNull() && !m.KeyIDsJSON.IsUnknown() {
		if err := decodeKeyIDsJSON(m.KeyIDsJSON.ValueString(), rec.KeyIDs); err != nil {
			diags.AddAttributeError(path.Root("key_ids_json"), "Unreadable key_ids_json in state", "This is a bug in the provider: "+err.Error())
		}
	}
	rec.Failed = stringSet(ctx, m.FailedHashes, &diags)
	rec.Unconfirmed = stringSet(ctx, m.UnconfirmedHashes, &diags)
	return rec, diags
}

// attributeGetter is a plan or a state.
type attributeGetter interface {
	GetAttribute(ctx context.Context, p path.Path, target any) diag.Diagnostics
}

// modelWithoutKeys reads from a plan or state everything but the keys map,
// which stays null in the model. Reading keys converts every setting of
// every key into framework values: a refresh never looks at them (the
// framework keeps them in the refreshed state as they were), and a plan
// whose keys did not change need not (planUnchangedKeys).
func modelWithoutKeys(ctx context.Context, from attributeGetter) (keyMigrationModel, diag.Diagnostics) {
	var m keyMigrationModel
	var diags diag.Diagnostics
	for name, into := range map[string]any{
		"id": &m.ID, "migration_id": &m.MigrationID, "api_id": &m.APIID, "hash_format": &m.HashFormat, "batch_size": &m.BatchSize,
		"deletion_policy": &m.DeletionPolicy, "keys_json": &m.KeysJSON, "keys_file": &m.KeysFile, "keys_file_sha256": &m.KeysFileSHA256,
		"change_summary": &m.ChangeSummary, "key_ids": &m.KeyIDs, "key_ids_json": &m.KeyIDsJSON,
		"failed_hashes": &m.FailedHashes, "unconfirmed_hashes": &m.UnconfirmedHashes,
	} {
		diags.Append(from.GetAttribute(ctx, path.Root(name), into)...)
	}
	return m, diags
}

// decodeKeyIDsJSON reads key_ids_json into into. The provider writes it
// as a flat object of plain strings, read here without reflection (at
// 100,000 key IDs encoding/json takes a quarter of a second, several times
// per command); anything else goes through encoding/json.
func decodeKeyIDsJSON(doc string, into map[string]string) error {
	d := plainjson.New(doc)
	order := make([]string, 0, len(doc)/64)
	if d.Object(func(hash string) bool {
		id, ok := d.Str()
		into[hash] = id
		order = append(order, hash)
		return ok
	}) && d.End() {
		migration.RememberSorted(order) // as encodeKeyIDsJSON writes it
		return nil
	}
	clear(into)
	return json.Unmarshal([]byte(doc), &into)
}

// encodeKeyIDsJSON writes key IDs by hash as json.Marshal does, sorted by
// hash, without its reflection when every hash and key ID is plain (at
// 100,000 key IDs json.Marshal takes a sixth of a second after the last
// batch of a create).
func encodeKeyIDsJSON(ids map[string]string) (string, error) {
	size := 2
	for h, id := range ids {
		if !plainjson.Verbatim(h) || !plainjson.Verbatim(id) {
			raw, err := json.Marshal(ids)
			return string(raw), err
		}
		size += len(h) + len(id) + 6
	}
	hashes := sortedKeys(ids)
	var b strings.Builder
	b.Grow(size)
	b.WriteByte('{')
	for i, h := range hashes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(h)
		b.WriteString(`":"`)
		b.WriteString(ids[h])
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

// cloneRecord is a copy of rec that changes to rec leave alone.
func cloneRecord(rec migrationRecord) migrationRecord {
	return migrationRecord{KeyIDs: maps.Clone(rec.KeyIDs), Failed: maps.Clone(rec.Failed), Unconfirmed: maps.Clone(rec.Unconfirmed)}
}

func stringSet(ctx context.Context, s types.Set, diags *diag.Diagnostics) map[string]bool {
	out := map[string]bool{}
	if s.IsNull() || s.IsUnknown() {
		return out
	}
	var items []string
	diags.Append(s.ElementsAs(ctx, &items, false)...)
	for _, h := range items {
		out[h] = true
	}
	return out
}

// setRecordOn writes the record into the model's computed attributes: the key
// IDs into key_ids for keys, into key_ids_json for keys_json and keys_file.
func setRecordOn(ctx context.Context, r migrationRecord, m *keyMigrationModel) diag.Diagnostics {
	var diags, d diag.Diagnostics
	if m.keyIDsAsJSON() {
		m.KeyIDs = types.MapNull(types.StringType)
		raw, err := encodeKeyIDsJSON(r.KeyIDs) // sorted by hash
		if err != nil {
			diags.AddError("Could not encode key_ids_json", err.Error())
		}
		m.KeyIDsJSON = types.StringValue(raw)
	} else {
		m.KeyIDsJSON = types.StringNull()
		m.KeyIDs, d = types.MapValueFrom(ctx, types.StringType, r.KeyIDs)
		diags.Append(d...)
	}
	m.FailedHashes, d = types.SetValueFrom(ctx, types.StringType, sortedKeys(r.Failed))
	diags.Append(d...)
	m.UnconfirmedHashes, d = types.SetValueFrom(ctx, types.StringType, sortedKeys(r.Unconfirmed))
	diags.Append(d...)
	return diags
}

func sortedKeys[V any](m map[string]V) []string { return migration.SortedKeys(m) }

// keySettings reads the keys map into plain settings by hash.
func keySettings(ctx context.Context, keys types.Map) (map[string]keySettingsModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	out := make(map[string]keySettingsModel, len(keys.Elements()))
	for hash, v := range keys.Elements() {
		obj, ok := v.(basetypes.ObjectValue)
		if !ok {
			diags.AddError("Unexpected key value", fmt.Sprintf("keys[%q] is a %T. This is a bug in the provider.", hash, v))
			continue
		}
		var k keySettingsModel
		diags.Append(obj.As(ctx, &k, basetypes.ObjectAsOptions{})...)
		out[hash] = k
	}
	return out, diags
}

// toClientKey converts settings into Unkey's terms. Validation has already
// run, so errors here mean a value changed form, not bad input.
func (k keySettingsModel) toClientKey(hash string) (unkeyclient.Key, error) {
	key := unkeyclient.Key{
		Hash:        hash,
		Name:        k.Name.ValueStringPointer(),
		ExternalID:  k.ExternalID.ValueStringPointer(),
		Roles:       sortedCopy(k.Roles),
		Permissions: sortedCopy(k.Permissions),
		Enabled:     k.Enabled.IsNull() || k.Enabled.ValueBool(),
	}
	if !k.Meta.IsNull() {
		dec := json.NewDecoder(bytes.NewReader([]byte(k.Meta.ValueString())))
		dec.UseNumber() // keep large integers exact
		if err := dec.Decode(&key.Meta); err != nil {
			return key, fmt.Errorf("keys[%q].meta: %w", hash, err)
		}
	}
	if !k.Expires.IsNull() {
		t, err := time.Parse(time.RFC3339, k.Expires.ValueString())
		if err != nil {
			return key, fmt.Errorf("keys[%q].expires: %w", hash, err)
		}
		ms := t.UnixMilli()
		key.ExpiresMs = &ms
	}
	if k.Credits != nil {
		key.Credits = &unkeyclient.Credits{Remaining: k.Credits.Remaining.ValueInt64()}
		if r := k.Credits.Refill; r != nil {
			key.Credits.Refill = &unkeyclient.Refill{Interval: r.Interval.ValueString(), Amount: r.Amount.ValueInt64(), RefillDay: r.RefillDay.ValueInt64Pointer()}
		}
	}
	for i, rl := range k.Ratelimits {
		d, err := time.ParseDuration(rl.Duration.ValueString())
		if err != nil {
			return key, fmt.Errorf("keys[%q].ratelimits[%d].duration: %w", hash, i, err)
		}
		key.Ratelimits = append(key.Ratelimits, unkeyclient.Ratelimit{
			Name: rl.Name.ValueString(), Limit: rl.Limit.ValueInt64(), DurationMs: d.Milliseconds(), AutoApply: rl.AutoApply.ValueBool(),
		})
	}
	return key, nil
}

func sortedCopy(s []string) []string {
	if s == nil {
		return nil
	}
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

// settingsChange is what must be sent to bring a migrated key from its old
// settings to its new ones.
type settingsChange struct {
	fields             []unkeyclient.Field
	rolesChanged       bool
	permissionsChanged bool
}

func (c settingsChange) empty() bool {
	return len(c.fields) == 0 && !c.rolesChanged && !c.permissionsChanged
}

func diffSettings(old, want unkeyclient.Key) settingsChange {
	var c settingsChange
	add := func(f unkeyclient.Field, a, b any) {
		if !reflect.DeepEqual(a, b) {
			c.fields = append(c.fields, f)
		}
	}
	add(unkeyclient.FieldName, old.Name, want.Name)
	add(unkeyclient.FieldExternalID, old.ExternalID, want.ExternalID)
	add(unkeyclient.FieldMeta, old.Meta, want.Meta)
	add(unkeyclient.FieldExpires, old.ExpiresMs, want.ExpiresMs)
	add(unkeyclient.FieldEnabled, old.Enabled, want.Enabled)
	add(unkeyclient.FieldCredits, old.Credits, want.Credits)
	add(unkeyclient.FieldRatelimits, old.Ratelimits, want.Ratelimits)
	c.rolesChanged = !slices.Equal(old.Roles, want.Roles)
	c.permissionsChanged = !slices.Equal(old.Permissions, want.Permissions)
	return c
}

// withEntries returns keys with the given hashes' values taken from other
// (or dropped when other lacks them).
func withEntries(keys types.Map, other types.Map, hashes []string) (types.Map, diag.Diagnostics) {
	if len(hashes) == 0 {
		return keys, nil
	}
	elems := make(map[string]attr.Value, len(keys.Elements())+len(hashes))
	for h, v := range keys.Elements() {
		elems[h] = v
	}
	otherElems := other.Elements()
	for _, h := range hashes {
		if v, ok := otherElems[h]; ok {
			elems[h] = v
		} else {
			delete(elems, h)
		}
	}
	return types.MapValue(keys.ElementType(context.Background()), elems)
}

// desiredKeys is every key the model asks for, by hash, whichever input
// holds them.
func desiredKeys(ctx context.Context, m keyMigrationModel) (map[string]unkeyclient.Key, diag.Diagnostics) {
	var diags diag.Diagnostics
	if m.usesKeysFile() {
		bulk, err := readKeysFile(m)
		return bulk.keys, keysFileDiags(err, false)
	}
	if !m.KeysJSON.IsNull() {
		bulk, problems := parseKeysJSON(m.KeysJSON.ValueString(), m.HashFormat.ValueString())
		if problems != nil {
			diags.AddAttributeError(path.Root("keys_json"), "Invalid keys_json", problems.Error())
		}
		return bulk.keys, diags
	}
	if m.keysMap != nil {
		for h, err := range m.keysMap.errs {
			diags.AddAttributeError(path.Root("keys").AtMapKey(h), "Invalid key settings", err.Error())
		}
		return m.keysMap.keys, diags
	}
	settings, diags := keySettings(ctx, m.Keys)
	out := make(map[string]unkeyclient.Key, len(settings))
	for h, s := range settings {
		k, err := s.toClientKey(h)
		if err != nil {
			diags.AddAttributeError(path.Root("keys").AtMapKey(h), "Invalid key settings", err.Error())
			continue
		}
		out[h] = k
	}
	return out, diags
}

// hashesOf is the hashes the model asks for, read without checking or
// converting the keys' settings.
func hashesOf(m keyMigrationModel) []string {
	if m.usesKeysFile() {
		bulk, _ := readKeysFile(m) // none when unreadable: callers use the record too
		return bulk.hashes
	}
	if !m.usesKeysJSON() && m.keysMap != nil {
		return m.keysMap.hashes()
	}
	if !m.usesKeysJSON() {
		return sortedKeys(m.Keys.Elements())
	}
	// Usually already read (and remembered) by validation or planning.
	if bulk, problems := parseKeysJSON(m.KeysJSON.ValueString(), m.HashFormat.ValueString()); problems == nil {
		return bulk.hashes
	}
	var items []struct {
		Hash string `json:"hash"`
	}
	_ = json.Unmarshal([]byte(m.KeysJSON.ValueString()), &items)
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Hash
	}
	return out
}

// unknownKeyIDs marks the key IDs unknown until apply, in the attribute
// that will hold them; the other stays null.
func (m *keyMigrationModel) unknownKeyIDs() {
	if m.keyIDsAsJSON() {
		m.KeyIDs, m.KeyIDsJSON = types.MapNull(types.StringType), types.StringUnknown()
	} else {
		m.KeyIDs, m.KeyIDsJSON = types.MapUnknown(types.StringType), types.StringNull()
	}
}

// sameEntries reports, when both models use keys_json, which hashes have
// byte-identical entries in both: at 100,000 keys, comparing settings one by
// one costs more than a second of every plan.
func sameEntries(a, b keyMigrationModel) func(hash string) bool {
	if !a.usesKeysJSON() || !b.usesKeysJSON() {
		return nil
	}
	x, _ := parseKeysJSON(a.KeysJSON.ValueString(), a.HashFormat.ValueString())
	y, _ := parseKeysJSON(b.KeysJSON.ValueString(), b.HashFormat.ValueString())
	return func(hash string) bool { return x.raw[hash] == y.raw[hash] }
}

// usesKeysJSON reports which input the model uses.
func (m keyMigrationModel) usesKeysJSON() bool { return !m.KeysJSON.IsNull() }

// usesKeysFile reports whether the model's keys are in keys_file.
func (m keyMigrationModel) usesKeysFile() bool { return !m.KeysFile.IsNull() }

// keyIDsAsJSON reports whether the key IDs go into key_ids_json (bulk
// inputs) rather than key_ids.
func (m keyMigrationModel) keyIDsAsJSON() bool { return m.usesKeysJSON() || m.usesKeysFile() }

// input names the attribute that holds the model's keys.
func (m keyMigrationModel) input() string {
	switch {
	case m.usesKeysFile():
		return "keys_file"
	case m.usesKeysJSON():
		return "keys_json"
	default:
		return "keys"
	}
}

// inputKnown reports whether the model's keys are known (not waiting on
// other resources).
func (m keyMigrationModel) inputKnown(ctx context.Context) bool {
	if m.KeysJSON.IsUnknown() || m.KeysFile.IsUnknown() || m.KeysFileSHA256.IsUnknown() {
		return false
	}
	if m.keyIDsAsJSON() || m.keysMap != nil {
		return true // keysMapServer takes out only a known keys map
	}
	v, err := m.Keys.ToTerraformValue(ctx)
	return err == nil && v.IsFullyKnown()
}

// sameInput reports whether two models ask for exactly the same keys, as
// written (a cheap test before comparing key by key). A keys_file is the
// same by its hash, wherever it lies.
func sameInput(a, b keyMigrationModel) bool {
	return a.KeysJSON.Equal(b.KeysJSON) && sameKeysMap(a, b) && a.KeysFileSHA256.Equal(b.KeysFileSHA256)
}

// sameKeysMap reports whether two models hold the same keys map, where
// keysMapServer took it out of both or of neither.
func sameKeysMap(a, b keyMigrationModel) bool {
	if a.keysMap != nil && b.keysMap != nil {
		return a.keysMap.value.Equal(b.keysMap.value)
	}
	return a.keysMap == nil && b.keysMap == nil && a.Keys.Equal(b.Keys)
}

// takeEntries makes m's keys input hold, for the given hashes, from's
// entries instead of its own (dropping those from lacks), so that a state
// saved after a partial apply records what was actually applied. When the
// two use different inputs, m takes from's input whole. Between two
// keys_file, the digests of the keys_file record stand for the entries.
func (m *keyMigrationModel) takeEntries(from keyMigrationModel, hashes []string) diag.Diagnostics {
	if len(hashes) == 0 || (m.usesKeysFile() && from.usesKeysFile()) {
		return nil
	}
	if m.input() != from.input() {
		m.Keys, m.KeysJSON, m.KeysFile, m.KeysFileSHA256 = from.Keys, from.KeysJSON, from.KeysFile, from.KeysFileSHA256
		m.keysMap = from.keysMap
		return nil
	}
	if !m.usesKeysJSON() && m.keysMap != nil {
		m.keysMap = m.keysMap.withEntries(from.keysMap, hashes)
		return nil
	}
	if !m.usesKeysJSON() {
		var diags diag.Diagnostics
		m.Keys, diags = withEntries(m.Keys, from.Keys, hashes)
		return diags
	}
	mine, _ := parseKeysJSON(m.KeysJSON.ValueString(), "")
	theirs, _ := parseKeysJSON(from.KeysJSON.ValueString(), "")
	m.KeysJSON = types.StringValue(mine.withEntries(theirs, hashes))
	return nil
}

// changeSummary is the plan's one-line account of what happens to keys.
func changeSummary(c keyMigrationChanges) string {
	return fmt.Sprintf("%d to migrate, %d to update, %d to remove", len(c.send), len(c.update), len(c.remove))
}
