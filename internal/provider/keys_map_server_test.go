package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
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

	invalid := func(hash string, nameValues ...any) func(map[string]tftypes.Value) {
		return func(elems map[string]tftypes.Value) {
			if _, ok := elems[hash]; !ok {
				elems[hash] = sampleKeySettings(t, context.Background(), keysAttribute(), true)
			}
			elems[hash] = m.with(elems[hash], nameValues...)
		}
	}
	full := sampleKeySettings(t, context.Background(), keysAttribute(), true)
	badDuration := m.withRatelimitDuration(full, "soon")
	fractionalCredits := m.withCredits(full, tftypes.NewValue(tftypes.Number, 1.5))
	keysToJSON := m.with(config(seed.APIID, m.null("keys")), "keys_json", str(keysJSON))

	plans := map[string]keysMapCase{
		"create":                               {config: config(seed.APIID, keys(5, nil)), prior: null, shortcut: true},
		"create, 200 keys":                     {config: config(seed.APIID, keys(200, nil)), prior: null, shortcut: true},
		"create, meta not JSON":                {config: config(seed.APIID, keys(5, invalid("hash-0", "meta", str("{plan")))), prior: null},
		"create, meta not an object":           {config: config(seed.APIID, keys(5, invalid("hash-0", "meta", str("[1, 2]")))), prior: null, shortcut: true},
		"unchanged, every hash answered":       {config: config(seed.APIID, keys(5, nil)), prior: unchanged, shortcut: true},
		"unchanged, 200 keys":                  {config: config(seed.APIID, keys(200, nil)), prior: state(keys(200, nil), keyIDs(hashes(200)...)), shortcut: true},
		"unchanged, a hash pending":            {config: config(seed.APIID, keys(5, nil)), prior: state(keys(5, nil), keyIDs("hash-0", "hash-1")), shortcut: true},
		"unchanged, no key IDs":                {config: config(seed.APIID, keys(5, nil)), prior: state(keys(5, nil), m.null("key_ids")), shortcut: true},
		"a key changed":                        {config: config(seed.APIID, keys(5, m.renamed)), prior: unchanged, shortcut: true},
		"a key added":                          {config: config(seed.APIID, keys(5, m.added)), prior: unchanged, shortcut: true},
		"a key added, 200 keys":                {config: config(seed.APIID, keys(200, m.added)), prior: state(keys(200, nil), keyIDs(hashes(200)...)), shortcut: true},
		"a failed hash removed":                {config: config(seed.APIID, keys(5, removed)), prior: unchanged, shortcut: true},
		"a migrated hash removed, delete":      {config: m.with(config(seed.APIID, keys(5, func(e map[string]tftypes.Value) { delete(e, "hash-0") })), "deletion_policy", str("delete")), prior: unchanged, shortcut: true},
		"meta reformatted":                     {config: config(seed.APIID, keys(5, reformatted)), prior: unchanged, shortcut: true},
		"meta changed to not JSON":             {config: config(seed.APIID, keys(5, invalid("hash-0", "meta", str("[1, 2")))), prior: unchanged},
		"meta changed to not an object":        {config: config(seed.APIID, keys(5, invalid("hash-0", "meta", str(`"pro"`)))), prior: unchanged, shortcut: true},
		"added key's meta not an object":       {config: config(seed.APIID, keys(5, invalid("hash-9", "meta", str("7")))), prior: unchanged, shortcut: true},
		"expires not RFC 3339":                 {config: config(seed.APIID, keys(5, invalid("hash-1", "expires", str("tomorrow")))), prior: unchanged, shortcut: true},
		"rate limit duration not a duration":   {config: config(seed.APIID, keys(5, func(e map[string]tftypes.Value) { e["hash-2"] = badDuration })), prior: unchanged, shortcut: true},
		"credits not an integer":               {config: config(seed.APIID, keys(5, func(e map[string]tftypes.Value) { e["hash-2"] = fractionalCredits })), prior: unchanged},
		"a key's settings null":                {config: config(seed.APIID, keys(5, func(e map[string]tftypes.Value) { e["hash-9"] = tftypes.NewValue(m.keysType.ElementType, nil) })), prior: unchanged},
		"a key not known yet":                  {config: config(seed.APIID, keys(5, m.unknownKey)), prior: unchanged},
		"keys not known yet":                   {config: config(seed.APIID, tftypes.NewValue(m.keysType, tftypes.UnknownValue)), prior: unchanged},
		"replaced by api_id":                   {config: config("api_other", keys(5, nil)), prior: unchanged, shortcut: true},
		"replaced by migration_id":             {config: m.with(config(seed.APIID, keys(5, nil)), "migration_id", str("mig_other")), prior: unchanged, shortcut: true},
		"api_id not known yet":                 {config: config(seed.APIID, keys(5, nil)), prior: unchanged, shortcut: true},
		"batch_size changed":                   {config: m.with(config(seed.APIID, keys(5, nil)), "batch_size", tftypes.NewValue(tftypes.Number, 100)), prior: unchanged, shortcut: true},
		"deletion_policy changed":              {config: m.with(config(seed.APIID, keys(5, nil)), "deletion_policy", str("delete")), prior: unchanged, shortcut: true},
		"hash_format set":                      {config: m.with(config(seed.APIID, keys(5, nil)), "hash_format", str("sha256_hex")), prior: unchanged, shortcut: true},
		"unanswered hashes in private state":   {config: config(seed.APIID, keys(5, nil)), prior: unchanged, private: private(privateKey, `{"unanswered":["hash-0"]}`), shortcut: true},
		"an unanswered hash removed":           {config: config(seed.APIID, keys(5, removed)), prior: unchanged, private: private(privateKey, `{"unanswered":["hash-4"]}`), shortcut: true},
		"broken private state":                 {config: config(seed.APIID, keys(5, nil)), prior: unchanged, private: private(privateKey, `{"unanswered":7}`), shortcut: true},
		"planned destroy in private state":     {config: config(seed.APIID, keys(5, nil)), prior: unchanged, private: private(plannedDestroyKey, "true"), shortcut: true},
		"API gone, unchanged":                  {config: gone(config(seed.APIID, keys(5, nil))), prior: gone(unchanged), shortcut: true},
		"API gone, a key added":                {config: gone(config(seed.APIID, keys(5, m.added))), prior: gone(unchanged), shortcut: true},
		"keys_json unchanged":                  {config: jsonConfig, prior: jsonState},
		"keys_json to keys":                    {config: config(seed.APIID, keys(2, nil)), prior: jsonState, shortcut: true},
		"keys to keys_json":                    {config: keysToJSON, prior: unchanged, shortcut: true},
		"keys_file created":                    {config: fileConfig, prior: null},
		"unchanged, root key without read_api": {config: config(seed.APIID, keys(5, nil)), prior: unchanged, rootKey: migrateOnly, shortcut: true},
		"destroy":                              {config: null, prior: unchanged, shortcut: true},
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
	applyAsTheFramework(t)
}

// applyCase is configurations planned and applied one after the other,
// from no state, each server against a local API of its own; fault, when
// set, is injected before the last apply.
type applyCase struct {
	steps []tftypes.Value
	fault *unkeylocal.Fault
	// brokenPrivate replaces the last plan's private state with one that
	// cannot be read, so that the apply fails before it sets any state.
	brokenPrivate bool
}

// appliedStep is what a server answered to one step's plan and apply.
type appliedStep struct {
	plan  *tfprotov6.PlanResourceChangeResponse
	apply *tfprotov6.ApplyResourceChangeResponse // nil when nothing was applied
}

// applyAsTheFramework plans and applies each case through the framework's
// own server and through keysMapServer: planned and new state (key IDs
// aside, which each local API draws at random), private state and
// diagnostics must be the same, and keysMapServer must serve every plan
// and every apply but a destroy without the keys map.
func applyAsTheFramework(t *testing.T) {
	m := newMigrationValues(t, unkeylocal.DefaultSeed.MigrationID, unkeylocal.DefaultSeed.APIID)
	api, str := unkeylocal.DefaultSeed.APIID, m.str
	keys := func(n int, change func(map[string]tftypes.Value)) tftypes.Value {
		return m.config(api, m.keys(n, change))
	}
	renamed := func(hashes ...string) func(map[string]tftypes.Value) {
		return func(e map[string]tftypes.Value) {
			for _, h := range hashes {
				e[h] = m.with(e[h], "name", str("renamed "+h))
			}
		}
	}
	removed := func(e map[string]tftypes.Value) { delete(e, "hash-1"); delete(e, "hash-2") }
	reformatted := func(e map[string]tftypes.Value) { e["hash-0"] = m.with(e["hash-0"], "meta", str(`{ "plan": "pro" }`)) }
	deleting := func(v tftypes.Value) tftypes.Value { return m.with(v, "deletion_policy", str("delete")) }
	inBatchesOf2 := func(v tftypes.Value) tftypes.Value {
		return m.with(v, "batch_size", tftypes.NewValue(tftypes.Number, 2))
	}
	keysJSON := m.with(m.config(api, m.null("keys")), "keys_json", str(`[{"hash": "hash-0"}, {"hash": "hash-1", "name": "one"}]`))
	refused := func(path string, skip int) *unkeylocal.Fault {
		return &unkeylocal.Fault{Path: path, Kind: unkeylocal.FaultStatus, Status: 400, Skip: skip}
	}
	cases := map[string]applyCase{
		"create":                          {steps: []tftypes.Value{keys(5, nil)}},
		"create, 200 keys":                {steps: []tftypes.Value{keys(200, nil)}},
		"create fails part-way":           {steps: []tftypes.Value{inBatchesOf2(keys(5, nil))}, fault: refused("/v2/keys.migrateKeys", 1)},
		"create sends nothing":            {steps: []tftypes.Value{keys(5, nil)}, fault: refused("/v2/keys.migrateKeys", 0)},
		"a key added":                     {steps: []tftypes.Value{keys(5, nil), keys(5, m.added)}},
		"a key added, sending fails":      {steps: []tftypes.Value{keys(5, nil), keys(5, m.added)}, fault: refused("/v2/keys.migrateKeys", 0)},
		"keys changed":                    {steps: []tftypes.Value{keys(5, nil), keys(5, renamed("hash-0", "hash-2"))}},
		"keys changed, the second fails":  {steps: []tftypes.Value{keys(5, nil), keys(5, func(e map[string]tftypes.Value) { renamed("hash-0", "hash-2")(e); m.added(e) })}, fault: refused("/v2/keys.updateKey", 1)},
		"keys removed":                    {steps: []tftypes.Value{keys(5, nil), keys(5, removed)}},
		"keys removed, deleting":          {steps: []tftypes.Value{deleting(keys(5, nil)), deleting(keys(5, removed))}},
		"keys removed, deleting fails":    {steps: []tftypes.Value{deleting(keys(5, nil)), deleting(keys(5, removed))}, fault: refused("/v2/keys.deleteKey", 1)},
		"meta reformatted":                {steps: []tftypes.Value{keys(5, nil), keys(5, reformatted)}},
		"unchanged":                       {steps: []tftypes.Value{keys(5, nil), keys(5, nil)}},
		"keys to keys_json":               {steps: []tftypes.Value{keys(2, nil), keysJSON}},
		"keys_json to keys":               {steps: []tftypes.Value{keysJSON, keys(2, nil)}},
		"destroyed":                       {steps: []tftypes.Value{keys(5, nil), tftypes.NewValue(m.objType, nil)}},
		"a key added, unreadable private": {steps: []tftypes.Value{keys(5, nil), keys(5, m.added)}, brokenPrivate: true},
	}
	for _, name := range sortedKeys(cases) {
		c := cases[name]
		t.Run("apply "+name, func(t *testing.T) {
			want := withoutPlanShortcut(func() []appliedStep { return applySteps(t, m, c, frameworkServer()) })
			ks := newKeysMapServer()
			got := applySteps(t, m, c, ks)
			if len(got) != len(want) || len(got) != len(c.steps) {
				t.Fatalf("%d steps, want %d of %d", len(got), len(want), len(c.steps))
			}
			if last := want[len(want)-1].apply; (c.fault != nil || c.brokenPrivate) && (last == nil || !hasError(last.Diagnostics)) {
				t.Fatal("the fault did not make the last apply fail")
			}
			plans, applies := 0, 0
			prior := tftypes.NewValue(m.objType, nil)
			for i := range got {
				g, w := got[i], want[i]
				config := c.steps[i]
				sameValue(t, m.objType, fmt.Sprintf("step %d planned state", i), withoutKeyIDs(t, m, g.plan.PlannedState), withoutKeyIDs(t, m, w.plan.PlannedState))
				samePrivate(t, g.plan.PlannedPrivate, w.plan.PlannedPrivate)
				sameDiagnostics(t, g.plan.Diagnostics, w.plan.Diagnostics)
				if holdsKeys(t, config) || holdsKeys(t, prior) {
					plans++
				}
				if (g.apply == nil) != (w.apply == nil) {
					t.Fatalf("step %d applied: %v, want %v", i, g.apply != nil, w.apply != nil)
				}
				if g.apply == nil {
					continue
				}
				sameValue(t, m.objType, fmt.Sprintf("step %d new state", i), withoutKeyIDs(t, m, g.apply.NewState), withoutKeyIDs(t, m, w.apply.NewState))
				samePrivate(t, g.apply.Private, w.apply.Private)
				sameDiagnostics(t, g.apply.Diagnostics, w.apply.Diagnostics)
				if !config.IsNull() && (holdsKeys(t, config) || holdsKeys(t, prior)) {
					applies++
				}
				var err error
				if prior, err = g.apply.NewState.Unmarshal(m.objType); err != nil {
					t.Fatal(err)
				}
			}
			if n := int(ks.shortcuts.plans.Load()); n != plans {
				t.Errorf("%d of %d plans took the shortcut", n, plans)
			}
			if n := int(ks.shortcuts.applies.Load()); n != applies {
				t.Errorf("%d of %d applies took the shortcut", n, applies)
			}
		})
	}
}

// applySteps plans and applies c's steps through s, against a local API of
// its own, one batch at a time so that a fault always hits the same one.
func applySteps(t *testing.T, m migrationValues, c applyCase, s tfprotov6.ProviderServer) []appliedStep {
	t.Helper()
	u, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
	seed := u.SeedDefault()
	t.Cleanup(func() { _ = journalFor(url, seed.MigrationID, seed.APIID).Remove() })
	configureServerWith(t, s, url, seed.RootKey, map[string]tftypes.Value{"parallel_requests": tftypes.NewValue(tftypes.Number, 1)})
	ctx := context.Background()
	state := tftypes.NewValue(m.objType, nil)
	var private []byte
	var out []appliedStep
	for i, config := range c.steps {
		plan, err := s.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName:         keyMigrationTypeName,
			Config:           dynamicValue(t, m.objType, config),
			PriorState:       dynamicValue(t, m.objType, state),
			ProposedNewState: dynamicValue(t, m.objType, m.proposed(config, state)),
			PriorPrivate:     private,
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, appliedStep{plan: plan})
		planned, err := plan.PlannedState.Unmarshal(m.objType)
		if err != nil {
			t.Fatal(err)
		}
		if hasError(plan.Diagnostics) || planned.Equal(state) {
			return out // Terraform applies neither
		}
		if i == len(c.steps)-1 && c.fault != nil {
			u.InjectFault(*c.fault)
		}
		if i == len(c.steps)-1 && c.brokenPrivate {
			plan.PlannedPrivate = []byte(`{"migration":"eyJ1bmFuc3dlcmVkIjo3fQ=="}`) // {"unanswered":7}
		}
		apply, err := s.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{
			TypeName:       keyMigrationTypeName,
			Config:         dynamicValue(t, m.objType, config),
			PriorState:     dynamicValue(t, m.objType, state),
			PlannedState:   plan.PlannedState,
			PlannedPrivate: plan.PlannedPrivate,
		})
		if err != nil {
			t.Fatal(err)
		}
		out[len(out)-1].apply = apply
		if state, err = apply.NewState.Unmarshal(m.objType); err != nil {
			t.Fatal(err)
		}
		private = apply.Private
	}
	return out
}

func hasError(diags []*tfprotov6.Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}

// holdsKeys reports whether v, a configuration or state, holds a keys map.
func holdsKeys(t *testing.T, v tftypes.Value) bool {
	if v.IsNull() {
		return false
	}
	keys, _, err := tftypes.WalkAttributePath(v, tftypes.NewAttributePath().WithAttributeName("keys"))
	if err != nil {
		t.Fatal(err)
	}
	return !keys.(tftypes.Value).IsNull()
}

// withoutKeyIDs is dv with every known key ID in key_ids written key_.
func withoutKeyIDs(t *testing.T, m migrationValues, dv *tfprotov6.DynamicValue) *tfprotov6.DynamicValue {
	t.Helper()
	if dv == nil {
		return nil
	}
	v, err := dv.Unmarshal(m.objType)
	if err != nil {
		t.Fatal(err)
	}
	if v.IsNull() {
		return dv
	}
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		t.Fatal(err)
	}
	if j := attrs["key_ids_json"]; j.IsKnown() && !j.IsNull() {
		var s string
		if err := j.As(&s); err != nil {
			t.Fatal(err)
		}
		v = m.with(v, "key_ids_json", m.str(keyID.ReplaceAllString(s, "key_")))
	}
	ids := attrs["key_ids"]
	if !ids.IsKnown() || ids.IsNull() {
		return dynamicValue(t, m.objType, v)
	}
	var elems map[string]tftypes.Value
	if err := ids.As(&elems); err != nil {
		t.Fatal(err)
	}
	for h := range elems {
		elems[h] = m.str("key_")
	}
	return dynamicValue(t, m.objType, m.with(v, "key_ids", tftypes.NewValue(ids.Type(), elems)))
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
	configureServerWith(t, s, url, rootKey, nil)
}

// configureServerWith configures the provider of s for the Unkey at url,
// with the given provider attributes set too.
func configureServerWith(t *testing.T, s tfprotov6.ProviderServer, url, rootKey string, set map[string]tftypes.Value) {
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
	maps.Copy(attrs, set)
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

// keyID is a key ID of the local API, which draws them at random.
var keyID = regexp.MustCompile(`key_[1-9A-HJ-NP-Za-km-z]{22}`)

func sameDiagnostics(t *testing.T, got, want []*tfprotov6.Diagnostic) {
	t.Helper()
	text := func(diags []*tfprotov6.Diagnostic) string {
		return keyID.ReplaceAllString(requestID.ReplaceAllString(fmt.Sprint(diagnosticsText(diags)), "request ID req_"), "key_")
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
			told := &keysTold{prior: keys, planned: keys, unchanged: true, hashes: c.hashes}
			resp, err := frameworkServer().PlanResourceChange(withKeysTold(context.Background(), told), &tfprotov6.PlanResourceChangeRequest{
				TypeName:         keyMigrationTypeName,
				Config:           strip(c.config),
				PriorState:       strip(c.prior),
				ProposedNewState: strip(m.proposed(c.config, c.prior)),
				PriorPrivate:     c.private,
			})
			if err != nil {
				t.Fatal(err)
			}
			if told.plannedUnchanged != c.planned {
				t.Fatalf("planned: %v, want %v (%v)", told.plannedUnchanged, c.planned, diagnosticsText(resp.Diagnostics))
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
