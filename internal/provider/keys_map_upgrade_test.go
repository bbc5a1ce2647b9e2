package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/zclconf/go-cty/cty"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"
)

// upgradeCase is one stored state of unkey_key_migration, upgraded by the
// framework's server and by keysMapServer.
type upgradeCase struct {
	state    string // the JSON Terraform stores
	version  int64
	flatmap  map[string]string
	shortcut bool // keysMapServer serves it without the framework
}

// TestUpgradeResourceStateAsTheFramework upgrades stored states of every
// input kind, of older provider versions, hand-edited and broken, through
// the framework's own server and through keysMapServer: the upgraded state
// must be the same value (read by tftypes, and by cty as Terraform reads
// it) with the same diagnostics, and keysMapServer must serve exactly the
// states it can read as the framework does.
func TestUpgradeResourceStateAsTheFramework(t *testing.T) {
	var sch resource.SchemaResponse
	NewKeyMigrationResource().Schema(context.Background(), resource.SchemaRequest{}, &sch)
	if sch.Schema.Version != keyMigrationSchemaVersion {
		t.Fatalf("schema version %d, keyMigrationSchemaVersion %d", sch.Schema.Version, keyMigrationSchemaVersion)
	}
	for name, c := range upgradeCases(t) {
		t.Run(name, func(t *testing.T) {
			if took := upgradeBothWays(t, c.version, []byte(c.state), c.flatmap); took != c.shortcut {
				t.Errorf("shortcut taken: %v, want %v", took, c.shortcut)
			}
		})
	}
}

// FuzzUpgradeResourceStateAsTheFramework upgrades any JSON both ways.
func FuzzUpgradeResourceStateAsTheFramework(f *testing.F) {
	for _, c := range upgradeCases(f) {
		if c.flatmap == nil && c.version == keyMigrationSchemaVersion {
			f.Add([]byte(c.state))
		}
	}
	f.Fuzz(func(t *testing.T, state []byte) {
		upgradeBothWays(t, keyMigrationSchemaVersion, state, nil)
	})
}

// upgradeBothWays fails t unless both servers upgrade the state to the
// same value with the same diagnostics, and tells whether keysMapServer
// took its shortcut.
func upgradeBothWays(t *testing.T, version int64, state []byte, flatmap map[string]string) (shortcut bool) {
	t.Helper()
	ctx := context.Background()
	if flatmap != nil && len(state) == 0 {
		state = nil // a state of Terraform 0.11
	}
	req := func() *tfprotov6.UpgradeResourceStateRequest {
		return &tfprotov6.UpgradeResourceStateRequest{TypeName: keyMigrationTypeName, Version: version,
			RawState: &tfprotov6.RawState{JSON: state, Flatmap: flatmap}}
	}
	want, err := providerserver.NewProtocol6(New("test")())().UpgradeResourceState(ctx, req())
	if err != nil {
		t.Fatal(err)
	}
	server := NewServer("test")().(*keysMapServer)
	got, err := server.UpgradeResourceState(ctx, req())
	if err != nil {
		t.Fatal(err)
	}
	if w, g := diagnosticsText(want.Diagnostics), diagnosticsText(got.Diagnostics); !slices.Equal(w, g) {
		t.Errorf("diagnostics:\n%q\nwant\n%q", g, w)
	}
	typ := keyMigrationType()
	if w, g := upgradedValue(t, typ, want.UpgradedState), upgradedValue(t, typ, got.UpgradedState); !w.Equal(g) {
		t.Errorf("upgraded state:\n%s\nwant\n%s", g, w)
	}
	ty := ctyTypeOf(typ)
	if w, g := upgradedCty(t, ty, want.UpgradedState), upgradedCty(t, ty, got.UpgradedState); !w.RawEquals(g) {
		t.Errorf("upgraded state as Terraform reads it:\n%#v\nwant\n%#v", g, w)
	}
	return server.shortcuts.upgrades.Load() == 1
}

func upgradedValue(t *testing.T, typ tftypes.Object, dv *tfprotov6.DynamicValue) tftypes.Value {
	t.Helper()
	if dv == nil {
		return tftypes.Value{}
	}
	v, err := dv.Unmarshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func upgradedCty(t *testing.T, ty cty.Type, dv *tfprotov6.DynamicValue) cty.Value {
	t.Helper()
	if dv == nil {
		return cty.NilVal
	}
	v, err := ctymsgpack.Unmarshal(dv.MsgPack, ty)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ctyTypeOf is typ as Terraform's schema implies it.
func ctyTypeOf(typ tftypes.Type) cty.Type {
	switch typ := typ.(type) {
	case tftypes.List:
		return cty.List(ctyTypeOf(typ.ElementType))
	case tftypes.Set:
		return cty.Set(ctyTypeOf(typ.ElementType))
	case tftypes.Map:
		return cty.Map(ctyTypeOf(typ.ElementType))
	case tftypes.Object:
		attrs := map[string]cty.Type{}
		for name, a := range typ.AttributeTypes {
			attrs[name] = ctyTypeOf(a)
		}
		return cty.Object(attrs)
	}
	switch {
	case typ.Is(tftypes.String):
		return cty.String
	case typ.Is(tftypes.Number):
		return cty.Number
	case typ.Is(tftypes.Bool):
		return cty.Bool
	}
	panic(fmt.Sprintf("no cty type for %s", typ))
}

// upgradeCases are stored states as Terraform keeps them (JSON written by
// cty, which escapes <, > and & as encoding/json does), and edits of them.
func upgradeCases(t testing.TB) map[string]upgradeCase {
	keyIDs := map[string]string{}
	for i := range 2000 {
		keyIDs[fmt.Sprintf("hash-%04d", i)] = fmt.Sprintf("key_%04d", i)
	}
	keyIDsJSON := marshal(t, keyIDs)
	fileState := map[string]any{
		"id": "mig_1/api_1", "migration_id": "mig_1", "api_id": "api_1", "hash_format": "sha256_base64", "batch_size": 500,
		"deletion_policy": "abandon", "keys": nil, "keys_json": nil, "keys_file": "/work/keys.json",
		"keys_file_sha256": strings.Repeat("ab", 32), "change_summary": "2000 to migrate, 0 to update, 0 to remove",
		"key_ids": nil, "key_ids_json": keyIDsJSON, "failed_hashes": []string{"hash-9998", "hash-9999"}, "unconfirmed_hashes": []string{},
	}
	keysJSON := `[{"hash":"hash-0","name":"Zoë <admin> & co","meta":{"plan":"pro","note":"line\nbreak\ttab \"quoted\" \\ slash/ \u2028 😀"}},{"hash":"hash-1"}]`
	jsonState := with(fileState, "keys_file", nil, "keys_file_sha256", nil, "keys_json", keysJSON,
		"key_ids_json", `{"hash-0":"key_0","hash-1":"key_1"}`)
	fullKey := map[string]any{
		"name": "full", "external_id": "user_1", "meta": `{"plan":"pro"}`, "roles": []string{"admin", "reader"},
		"permissions": []string{"api.*.read_key"}, "expires": "2030-01-01T00:00:00Z", "enabled": false,
		"credits":    map[string]any{"remaining": 5, "refill": map[string]any{"interval": "monthly", "amount": 10, "refill_day": 3}},
		"ratelimits": []any{map[string]any{"name": "requests", "limit": 100, "duration": "1m", "auto_apply": true}},
	}
	nullKey := map[string]any{"name": nil, "external_id": nil, "meta": nil, "roles": nil, "permissions": nil, "expires": nil,
		"enabled": nil, "credits": nil, "ratelimits": nil}
	mapState := with(fileState, "keys_file", nil, "keys_file_sha256", nil, "key_ids_json", nil,
		"keys", map[string]any{"hash-0": fullKey, "hash-1": nullKey,
			"hash-2": with(fullKey, "credits", map[string]any{"remaining": 0, "refill": nil}, "ratelimits", []any{}, "roles", []string{})},
		"key_ids", map[string]string{"hash-0": "key_0", "hash-1": "key_1"})
	allNull := map[string]any{}
	for name := range fileState {
		allNull[name] = nil
	}
	// An early provider's state, before keys_json, keys_file, change_summary
	// and key_ids_json.
	early := with(mapState)
	for _, name := range []string{"keys_json", "keys_file", "keys_file_sha256", "change_summary", "key_ids_json"} {
		delete(early, name)
	}
	file := marshal(t, fileState)
	pretty, err := json.MarshalIndent(fileState, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	withKeyIDs := func(ids string) string { return marshal(t, with(fileState, "key_ids_json", ids)) }
	withBatch := func(raw string) string {
		return strings.Replace(file, `"batch_size":500`, `"batch_size":`+raw, 1)
	}
	withName := func(raw string) string {
		return strings.Replace(marshal(t, mapState), `"name":"full"`, `"name":`+raw, 1)
	}
	return map[string]upgradeCase{
		"keys_file":                        {state: file, shortcut: true},
		"keys_file, pretty":                {state: string(pretty), shortcut: true},
		"keys_json":                        {state: marshal(t, jsonState), shortcut: true},
		"keys map":                         {state: marshal(t, mapState), shortcut: true},
		"every attribute null":             {state: marshal(t, allNull), shortcut: true},
		"no attributes":                    {state: `{}`, shortcut: true},
		"empty collections":                {state: marshal(t, with(mapState, "keys", map[string]any{}, "key_ids", map[string]any{}, "failed_hashes", []string{})), shortcut: true},
		"an early provider's state":        {state: marshal(t, early), shortcut: true},
		"an attribute the schema dropped":  {state: marshal(t, with(fileState, "key_ids_csv", "a,b"))},
		"a key setting the schema dropped": {state: marshal(t, with(mapState, "keys", map[string]any{"hash-0": with(fullKey, "owner", "x")}))},
		"an attribute twice":               {state: strings.Replace(file, `"api_id":"api_1"`, `"api_id":"api_1","api_id":"api_2"`, 1)},
		"a key ID twice":                   {state: strings.Replace(marshal(t, mapState), `"key_ids":{`, `"key_ids":{"hash-0":"key_x",`, 1)},
		"a hash twice in keys":             {state: strings.Replace(marshal(t, mapState), `"keys":{`, `"keys":{"hash-1":null,`, 1)},
		"key_ids_json not JSON":            {state: withKeyIDs(keyIDsJSON[:len(keyIDsJSON)/2]), shortcut: true},
		"a failed hash twice":              {state: marshal(t, with(fileState, "failed_hashes", []string{"a", "a"})), shortcut: true},
		"batch_size negative":              {state: withBatch("-1"), shortcut: true},
		"batch_size -0":                    {state: withBatch("-0"), shortcut: true},
		"batch_size largest int64":         {state: withBatch("9223372036854775807"), shortcut: true},
		"batch_size beyond int64":          {state: withBatch("9223372036854775808")},
		"batch_size with a fraction":       {state: withBatch("500.0")},
		"batch_size with an exponent":      {state: withBatch("5e2")},
		"batch_size a string":              {state: withBatch(`"500"`)},
		"batch_size with a leading zero":   {state: withBatch("0500")},
		"batch_size a bool":                {state: withBatch("true")},
		"a name a number":                  {state: withName("5")},
		"a name a bool":                    {state: withName("true")},
		"a name an object":                 {state: withName("{}")},
		"enabled true":                     {state: strings.Replace(marshal(t, mapState), `"enabled":false`, `"enabled":true`, 1), shortcut: true},
		"enabled a string":                 {state: strings.Replace(marshal(t, mapState), `"enabled":false`, `"enabled":"false"`, 1)},
		"escapes":                          {state: withName(`"a\"b\\c\/d\be\ff\ng\rh\ti"`), shortcut: true},
		"a \\u escape":                     {state: withName(`"caf\u00e9 \u003cb\u003e"`), shortcut: true},
		"a surrogate pair":                 {state: withName(`"\ud83d\ude00"`), shortcut: true},
		"a lone surrogate":                 {state: withName(`"\ud800x"`), shortcut: true},
		"a bad \\u escape":                 {state: withName(`"\u12"`)},
		"an unknown escape":                {state: withName(`"\q"`)},
		"bytes not UTF-8":                  {state: withName("\"a\xffb\""), shortcut: true},
		"a surrogate in UTF-8":             {state: withName("\"\xed\xa0\x80\""), shortcut: true},
		"not NFC":                          {state: withName("\"e\u0301\""), shortcut: true},
		"a control character":              {state: withName("\"a\tb\"")},
		"long strings":                     {state: marshal(t, with(fileState, "change_summary", strings.Repeat("x", 300), "api_id", strings.Repeat("y", 70000))), shortcut: true},
		"a set a string":                   {state: marshal(t, with(fileState, "failed_hashes", "a"))},
		"keys a list":                      {state: marshal(t, with(fileState, "keys", []string{}))},
		"a trailing comma":                 {state: strings.Replace(file, `"unconfirmed_hashes":[]`, `"unconfirmed_hashes":["a",]`, 1)},
		"truncated":                        {state: file[:len(file)/2]},
		"something after the object":       {state: file + "x"},
		"whitespace after the object":      {state: file + "\n", shortcut: true},
		"null":                             {state: `null`},
		"an array":                         {state: `[]`},
		"empty":                            {state: ``},
		"an older version":                 {state: file, version: keyMigrationSchemaVersion - 1},
		"a newer version":                  {state: file, version: keyMigrationSchemaVersion + 1},
		"flatmap beside JSON":              {state: file, flatmap: map[string]string{"id": "x"}, shortcut: true},
		"flatmap alone":                    {flatmap: map[string]string{"id": "x"}},
	}
}

func marshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// with is a copy of m with name, value pairs set.
func with(m map[string]any, nameValues ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(nameValues); i += 2 {
		out[nameValues[i].(string)] = nameValues[i+1]
	}
	return out
}

// BenchmarkUpgradeResourceState upgrades a keys_file state of 100,000 key
// IDs (7.6 MB, as make bench's) through the framework and keysMapServer.
func BenchmarkUpgradeResourceState(b *testing.B) {
	keyIDs := make(map[string]string, 100_000)
	for i := range 100_000 {
		keyIDs[fmt.Sprintf("%043d=", i)] = fmt.Sprintf("key_%022d", i)
	}
	state := []byte(marshal(b, map[string]any{
		"id": "mig_1/api_1", "migration_id": "mig_1", "api_id": "api_1", "batch_size": 500, "deletion_policy": "abandon",
		"keys_file": "keys.json", "keys_file_sha256": strings.Repeat("ab", 32), "key_ids_json": marshal(b, keyIDs),
		"failed_hashes": []string{}, "unconfirmed_hashes": []string{},
	}))
	req := &tfprotov6.UpgradeResourceStateRequest{TypeName: keyMigrationTypeName, RawState: &tfprotov6.RawState{JSON: state}}
	for name, server := range map[string]tfprotov6.ProviderServer{
		"framework":     providerserver.NewProtocol6(New("test")())(),
		"keysMapServer": NewServer("test")(),
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(state)))
			for b.Loop() {
				if resp, err := server.UpgradeResourceState(context.Background(), req); err != nil || len(resp.Diagnostics) > 0 {
					b.Fatal(err, resp.Diagnostics)
				}
			}
		})
	}
}
