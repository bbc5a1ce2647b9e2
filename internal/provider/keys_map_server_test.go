package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/unkeyed/terraform-provider-unkey/internal/migration"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// keysMapCase is one request served by the framework's server and by
// keysMapServer, against the local API.
type keysMapCase struct {
	config, prior tftypes.Value
	private       []byte
	rootKey       string // the seed's when empty
	url           string // the local API's when empty
	before        func() // run before each server serves the request
	shortcut      bool   // keysMapServer serves it without the keys map
}

// TestKeysMapServerAsTheFramework serves each plan and refresh through the
// framework's own server (planning the full path, without
// planUnchangedKeys) and through keysMapServer: planned or new state,
// private state, RequiresReplace and diagnostics must be the same, and
// keysMapServer must take its shortcut exactly where expected.
func TestKeysMapServerAsTheFramework(t *testing.T) {
	u, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
	seed := u.SeedDefault()
	const migrateOnly = "unkey_local_root_migrate_only_7Hq2"
	u.AddRootKey(seed.WorkspaceID, migrateOnly, "api.*.create_key")
	m := newMigrationValues(t, seed.MigrationID, seed.APIID)
	keys, keyIDs, config, state, str := m.keys, m.keyIDs, m.config, m.state, m.str
	migrated := keyIDs("hash-0", "hash-1", "hash-2")
	unchanged := state(keys(5, nil), migrated)
	removed := func(elems map[string]tftypes.Value) { delete(elems, "hash-4") }
	reformatted := func(elems map[string]tftypes.Value) {
		elems["hash-0"] = m.with(elems["hash-0"], "meta", str(`{ "plan": "pro" }`))
	}
	gone := func(v tftypes.Value) tftypes.Value {
		return m.with(v, "api_id", str("api_gone"), "id", str(seed.MigrationID+"/api_gone"))
	}
	keysJSON := `[{"hash": "hash-0"}, {"hash": "hash-1"}]`
	jsonConfig := m.with(config(seed.APIID, m.null("keys")), "keys_json", str(keysJSON))
	jsonState := m.with(state(m.null("keys"), m.null("key_ids")), "keys_json", str(keysJSON),
		"key_ids_json", str(`{"hash-0":"key_hash-0","hash-1":"key_hash-1"}`), "failed_hashes", m.set(), "unconfirmed_hashes", m.set())
	keysFile, keysFileSHA := writeKeysFile(t, keysJSON)
	fileConfig := m.with(config(seed.APIID, m.null("keys")), "keys_file", str(keysFile), "keys_file_sha256", str(keysFileSHA))
	private := func(kv ...string) []byte {
		data := map[string][]byte{}
		for i := 0; i < len(kv); i += 2 {
			data[kv[i]] = []byte(kv[i+1])
		}
		raw, err := json.Marshal(data)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	null := tftypes.NewValue(m.objType, nil)

	plans := map[string]keysMapCase{
		"create":                               {config: config(seed.APIID, keys(5, nil)), prior: null},
		"unchanged, every hash answered":       {config: config(seed.APIID, keys(5, nil)), prior: unchanged, shortcut: true},
		"unchanged, 200 keys":                  {config: config(seed.APIID, keys(200, nil)), prior: state(keys(200, nil), keyIDs(hashes(200)...)), shortcut: true},
		"unchanged, a hash pending":            {config: config(seed.APIID, keys(5, nil)), prior: state(keys(5, nil), keyIDs("hash-0", "hash-1"))},
		"unchanged, no key IDs":                {config: config(seed.APIID, keys(5, nil)), prior: state(keys(5, nil), m.null("key_ids"))},
		"a key changed":                        {config: config(seed.APIID, keys(5, m.renamed)), prior: unchanged},
		"a key added":                          {config: config(seed.APIID, keys(5, m.added)), prior: unchanged},
		"a failed hash removed":                {config: config(seed.APIID, keys(5, removed)), prior: unchanged},
		"meta reformatted":                     {config: config(seed.APIID, keys(5, reformatted)), prior: unchanged},
		"a key not known yet":                  {config: config(seed.APIID, keys(5, m.unknownKey)), prior: unchanged},
		"keys not known yet":                   {config: config(seed.APIID, tftypes.NewValue(m.keysType, tftypes.UnknownValue)), prior: unchanged},
		"replaced by api_id":                   {config: config("api_other", keys(5, nil)), prior: unchanged},
		"replaced by migration_id":             {config: m.with(config(seed.APIID, keys(5, nil)), "migration_id", str("mig_other")), prior: unchanged},
		"api_id not known yet":                 {config: config(seed.APIID, keys(5, nil)), prior: unchanged},
		"batch_size changed":                   {config: m.with(config(seed.APIID, keys(5, nil)), "batch_size", tftypes.NewValue(tftypes.Number, 100)), prior: unchanged, shortcut: true},
		"deletion_policy changed":              {config: m.with(config(seed.APIID, keys(5, nil)), "deletion_policy", str("delete")), prior: unchanged, shortcut: true},
		"hash_format set":                      {config: m.with(config(seed.APIID, keys(5, nil)), "hash_format", str("sha256_hex")), prior: unchanged, shortcut: true},
		"unanswered hashes in private state":   {config: config(seed.APIID, keys(5, nil)), prior: unchanged, private: private(privateKey, `{"unanswered":["hash-0"]}`), shortcut: true},
		"broken private state":                 {config: config(seed.APIID, keys(5, nil)), prior: unchanged, private: private(privateKey, `{"unanswered":7}`)},
		"planned destroy in private state":     {config: config(seed.APIID, keys(5, nil)), prior: unchanged, private: private(plannedDestroyKey, "true"), shortcut: true},
		"API gone, unchanged":                  {config: gone(config(seed.APIID, keys(5, nil))), prior: gone(unchanged), shortcut: true},
		"API gone, a key added":                {config: gone(config(seed.APIID, keys(5, m.added))), prior: gone(unchanged)},
		"keys_json unchanged":                  {config: jsonConfig, prior: jsonState},
		"keys_json to keys":                    {config: config(seed.APIID, keys(2, nil)), prior: jsonState},
		"keys_file created":                    {config: fileConfig, prior: null},
		"unchanged, root key without read_api": {config: config(seed.APIID, keys(5, nil)), prior: unchanged, rootKey: migrateOnly, shortcut: true},
		"destroy":                              {config: null, prior: unchanged},
	}
	unknownAPI := plans["api_id not known yet"]
	unknownAPI.config = m.with(unknownAPI.config, "api_id", tftypes.NewValue(tftypes.String, tftypes.UnknownValue))
	plans["api_id not known yet"] = unknownAPI

	journal := journalFor(url, seed.MigrationID, seed.APIID)
	writeJournal := func() {
		_ = journal.Remove()
		if err := journal.Append(migration.Entry{KeyIDs: map[string]string{"hash-0": "key_hash-0", "hash-7": "key_hash-7"}}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = journal.Remove() })
	refreshes := map[string]keysMapCase{
		"API present":                        {prior: unchanged, shortcut: true},
		"API present, 200 keys":              {prior: state(keys(200, nil), keyIDs(hashes(200)...)), shortcut: true},
		"API present, keys_json":             {prior: jsonState},
		"API not found":                      {prior: gone(unchanged), shortcut: true},
		"API not found, keys_json":           {prior: gone(jsonState)},
		"root key without read_api":          {prior: unchanged, rootKey: migrateOnly, shortcut: true},
		"Unkey unreachable":                  {prior: unchanged, url: unkeylocal.UnreachableURL(t), shortcut: true},
		"journal present":                    {prior: unchanged, before: writeJournal, shortcut: true},
		"incomplete create in private state": {prior: unchanged, private: private(privateKey, `{"incomplete_create":true}`), shortcut: true},
		"API not found in private state":     {prior: unchanged, private: private(privateKey, `{"api_not_found":true}`), shortcut: true},
		"planned destroy in private state":   {prior: unchanged, private: private(plannedDestroyKey, "true"), shortcut: true},
		"broken private state":               {prior: unchanged, private: private(privateKey, `{"unanswered":7}`), shortcut: true},
		"every key's settings null":          {prior: state(keys(5, func(e map[string]tftypes.Value) { e["hash-0"] = nullObject(m.keysType.ElementType) }), migrated), shortcut: true},
	}

	serve := func(c keysMapCase, s tfprotov6.ProviderServer) tfprotov6.ProviderServer {
		key, at := c.rootKey, c.url
		if key == "" {
			key = seed.RootKey
		}
		if at == "" {
			at = url
		}
		configureServer(t, s, at, key)
		if c.before != nil {
			c.before()
		}
		return s
	}
	var planShortcuts, readShortcuts int
	for _, name := range sortedKeys(plans) {
		c := plans[name]
		t.Run("plan "+name, func(t *testing.T) {
			req := &tfprotov6.PlanResourceChangeRequest{
				TypeName:         keyMigrationTypeName,
				Config:           dynamicValue(t, m.objType, c.config),
				PriorState:       dynamicValue(t, m.objType, c.prior),
				ProposedNewState: dynamicValue(t, m.objType, m.proposed(c.config, c.prior)),
				PriorPrivate:     c.private,
			}
			want := withoutPlanShortcut(func() *tfprotov6.PlanResourceChangeResponse {
				resp, err := serve(c, frameworkServer()).PlanResourceChange(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				return resp
			})
			ks := newKeysMapServer()
			got, err := serve(c, ks).PlanResourceChange(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			sameValue(t, m.objType, "planned state", got.PlannedState, want.PlannedState)
			samePrivate(t, got.PlannedPrivate, want.PlannedPrivate)
			sameDiagnostics(t, got.Diagnostics, want.Diagnostics)
			if fmt.Sprint(got.RequiresReplace) != fmt.Sprint(want.RequiresReplace) {
				t.Errorf("requires replace %v, want %v", got.RequiresReplace, want.RequiresReplace)
			}
			if fmt.Sprint(got.Deferred, got.PlannedIdentity) != fmt.Sprint(want.Deferred, want.PlannedIdentity) {
				t.Errorf("deferred, identity %v %v, want %v %v", got.Deferred, got.PlannedIdentity, want.Deferred, want.PlannedIdentity)
			}
			if taken := ks.shortcuts.plans.Load() == 1; taken != c.shortcut {
				t.Errorf("shortcut taken: %v, want %v", taken, c.shortcut)
			}
			planShortcuts += int(ks.shortcuts.plans.Load())
		})
	}
	for _, name := range sortedKeys(refreshes) {
		c := refreshes[name]
		t.Run("refresh "+name, func(t *testing.T) {
			req := &tfprotov6.ReadResourceRequest{
				TypeName:     keyMigrationTypeName,
				CurrentState: dynamicValue(t, m.objType, c.prior),
				Private:      c.private,
			}
			want, err := serve(c, frameworkServer()).ReadResource(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			ks := newKeysMapServer()
			got, err := serve(c, ks).ReadResource(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			sameValue(t, m.objType, "new state", got.NewState, want.NewState)
			samePrivate(t, got.Private, want.Private)
			sameDiagnostics(t, got.Diagnostics, want.Diagnostics)
			if fmt.Sprint(got.Deferred, got.NewIdentity) != fmt.Sprint(want.Deferred, want.NewIdentity) {
				t.Errorf("deferred, identity %v %v, want %v %v", got.Deferred, got.NewIdentity, want.Deferred, want.NewIdentity)
			}
			if taken := ks.shortcuts.reads.Load() == 1; taken != c.shortcut {
				t.Errorf("shortcut taken: %v, want %v", taken, c.shortcut)
			}
			readShortcuts += int(ks.shortcuts.reads.Load())
		})
	}
	if want := countShortcuts(plans); planShortcuts != want {
		t.Errorf("%d of %d plans took the shortcut, want %d", planShortcuts, len(plans), want)
	}
	if want := countShortcuts(refreshes); readShortcuts != want {
		t.Errorf("%d of %d refreshes took the shortcut, want %d", readShortcuts, len(refreshes), want)
	}
}

func countShortcuts(cases map[string]keysMapCase) int {
	n := 0
	for _, c := range cases {
		if c.shortcut {
			n++
		}
	}
	return n
}

func hashes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("hash-%d", i)
	}
	return out
}

// writeKeysFile writes doc to a keys_file and returns its path and hex SHA-256.
func writeKeysFile(t *testing.T, doc string) (path, sum string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256([]byte(doc))
	return path, hex.EncodeToString(s[:])
}

func frameworkServer() tfprotov6.ProviderServer {
	return providerserver.NewProtocol6(New("test")())()
}

func newKeysMapServer() *keysMapServer {
	return NewServer("test")().(*keysMapServer)
}

// withoutPlanShortcut runs f with ModifyPlan planning every request the
// full way.
func withoutPlanShortcut[T any](f func() T) T {
	saved := unchangedKeysShortcut
	unchangedKeysShortcut = func(*keyMigrationResource, context.Context, resource.ModifyPlanRequest, *resource.ModifyPlanResponse) bool {
		return false
	}
	defer func() { unchangedKeysShortcut = saved }()
	return f()
}

// configureServer configures the provider of s for the Unkey at url.
func configureServer(t *testing.T, s tfprotov6.ProviderServer, url, rootKey string) {
	t.Helper()
	ctx := context.Background()
	var sch fwprovider.SchemaResponse
	New("test")().Schema(ctx, fwprovider.SchemaRequest{}, &sch)
	typ := sch.Schema.Type().TerraformType(ctx).(tftypes.Object)
	attrs := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		attrs[name] = tftypes.NewValue(at, nil)
	}
	attrs["api_url"], attrs["root_key"] = tftypes.NewValue(tftypes.String, url), tftypes.NewValue(tftypes.String, rootKey)
	attrs["retry_timeout"] = tftypes.NewValue(tftypes.String, "0s") // an unreachable Unkey answers at once
	resp, err := s.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{
		TerraformVersion: "1.11.4",
		Config:           dynamicValue(t, typ, tftypes.NewValue(typ, attrs)),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			t.Fatalf("configuring the provider: %s: %s", d.Summary, d.Detail)
		}
	}
}

func sameValue(t *testing.T, typ tftypes.Type, what string, got, want *tfprotov6.DynamicValue) {
	t.Helper()
	if got == nil || want == nil {
		if got != want {
			t.Errorf("%s %v, want %v", what, got, want)
		}
		return
	}
	g, err := got.Unmarshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	w, err := want.Unmarshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Equal(w) {
		diffs, _ := g.Diff(w)
		paths := make([]string, 0, len(diffs))
		for _, d := range diffs {
			paths = append(paths, d.Path.String())
		}
		t.Errorf("%s differs at %v", what, paths)
	}
}

func samePrivate(t *testing.T, got, want []byte) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("private state %q, want %q", got, want)
	}
}

// requestID is the ID the local API gives each request, which differs
// between two servings of one request.
var requestID = regexp.MustCompile(`request ID req_[0-9A-Za-z]+`)

func sameDiagnostics(t *testing.T, got, want []*tfprotov6.Diagnostic) {
	t.Helper()
	text := func(diags []*tfprotov6.Diagnostic) string {
		return requestID.ReplaceAllString(fmt.Sprint(diagnosticsText(diags)), "request ID req_")
	}
	if text(got) != text(want) {
		t.Errorf("diagnostics %v, want %v", diagnosticsText(got), diagnosticsText(want))
	}
}

// TestKeysHaveNothingToPlan plans, through the framework's server, requests
// whose keys map keysMapServer took out, telling ModifyPlan the hashes: it
// plans the state's record only when those hashes are all accounted for and
// keys is the only input of an update in place, and says so.
func TestKeysHaveNothingToPlan(t *testing.T) {
	m := newMigrationValues(t, "mig_1", "api_1")
	keys := m.keys(5, nil)
	unchanged := m.state(keys, m.keyIDs("hash-0", "hash-1", "hash-2"))
	for name, c := range map[string]struct {
		config, prior tftypes.Value
		hashes        []string
		private       []byte
		planned       bool
	}{
		"every hash accounted for": {m.config("api_1", keys), unchanged, hashes(5), nil, true},
		"a hash not accounted for": {m.config("api_1", keys), unchanged, hashes(6), nil, false},
		"replaced":                 {m.config("api_2", keys), unchanged, hashes(5), nil, false},
		"keys_json in the state":   {m.config("api_1", keys), m.with(unchanged, "keys_json", m.str("[]")), hashes(5), nil, false},
		"unreadable private state": {m.config("api_1", keys), unchanged, hashes(5), []byte(`{"migration":"eyJ1bmFuc3dlcmVkIjo3fQ=="}`), false},
	} {
		t.Run(name, func(t *testing.T) {
			strip := func(v tftypes.Value) *tfprotov6.DynamicValue {
				dv, _, err := withoutKeys(m.objType, dynamicValue(t, m.objType, v))
				if err != nil {
					t.Fatal(err)
				}
				return dv
			}
			told := &unchangedKeys{hashes: c.hashes}
			resp, err := frameworkServer().PlanResourceChange(context.WithValue(context.Background(), unchangedKeysKey{}, told), &tfprotov6.PlanResourceChangeRequest{
				TypeName:         keyMigrationTypeName,
				Config:           strip(c.config),
				PriorState:       strip(c.prior),
				ProposedNewState: strip(m.proposed(c.config, c.prior)),
				PriorPrivate:     c.private,
			})
			if err != nil {
				t.Fatal(err)
			}
			if told.planned != c.planned {
				t.Fatalf("planned: %v, want %v (%v)", told.planned, c.planned, diagnosticsText(resp.Diagnostics))
			}
			if !c.planned {
				return
			}
			planned, err := resp.PlannedState.Unmarshal(m.objType)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"change_summary", "key_ids", "failed_hashes", "unconfirmed_hashes"} {
				got, _, _ := tftypes.WalkAttributePath(planned, tftypes.NewAttributePath().WithAttributeName(name))
				want, _, _ := tftypes.WalkAttributePath(c.prior, tftypes.NewAttributePath().WithAttributeName(name))
				if !got.(tftypes.Value).Equal(want.(tftypes.Value)) {
					t.Errorf("planned %s %v, want the state's %v", name, got, want)
				}
			}
		})
	}
}
