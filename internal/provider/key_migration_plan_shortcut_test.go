package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestPlanUnchangedKeysAsTheFullPath plans, through the framework's own
// protocol server, each case with planUnchangedKeys and without it: the
// planned state, private state and diagnostics must be the same, and the
// shortcut must be taken exactly where the keys are unchanged and accounted for.
func TestPlanUnchangedKeysAsTheFullPath(t *testing.T) {
	m := newMigrationValues(t, "mig_1", "api_1")
	objType, keys, keyIDs, config, state, null := m.objType, m.keys, m.keyIDs, m.config, m.state, m.null
	proposed := m.proposed
	migrated := keyIDs("hash-0", "hash-1", "hash-2")
	renamed, added, unknown := m.renamed, m.added, m.unknownKey
	for name, c := range map[string]struct {
		config, prior tftypes.Value
		shortcut      bool
	}{
		"unchanged, every hash answered": {config("api_1", keys(5, nil)), state(keys(5, nil), migrated), true},
		"unchanged, a hash pending":      {config("api_1", keys(5, nil)), state(keys(5, nil), keyIDs("hash-0", "hash-1")), false},
		"unchanged, no key IDs":          {config("api_1", keys(5, nil)), state(keys(5, nil), null("key_ids")), false},
		"a key changed":                  {config("api_1", keys(5, renamed)), state(keys(5, nil), migrated), false},
		"a key added":                    {config("api_1", keys(5, added)), state(keys(5, nil), migrated), false},
		"a key not known yet":            {config("api_1", keys(5, unknown)), state(keys(5, nil), migrated), false},
		"replaced":                       {config("api_2", keys(5, nil)), state(keys(5, nil), migrated), false},
	} {
		t.Run(name, func(t *testing.T) {
			req := &tfprotov6.PlanResourceChangeRequest{
				TypeName:         "unkey_key_migration",
				Config:           dynamicValue(t, objType, c.config),
				PriorState:       dynamicValue(t, objType, c.prior),
				ProposedNewState: dynamicValue(t, objType, proposed(c.config, c.prior)),
			}
			full := planThrough(t, req, func(*keyMigrationResource, context.Context, resource.ModifyPlanRequest, *resource.ModifyPlanResponse) bool {
				return false
			})
			taken := false
			short := planThrough(t, req, func(r *keyMigrationResource, ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) bool {
				taken = r.planUnchangedKeys(ctx, req, resp)
				return taken
			})
			if taken != c.shortcut {
				t.Errorf("shortcut taken: %v, want %v", taken, c.shortcut)
			}
			fullState, err := full.PlannedState.Unmarshal(objType)
			if err != nil {
				t.Fatal(err)
			}
			shortState, err := short.PlannedState.Unmarshal(objType)
			if err != nil {
				t.Fatal(err)
			}
			if !shortState.Equal(fullState) {
				diffs, _ := shortState.Diff(fullState)
				t.Errorf("planned states differ: %v", diffs)
			}
			if !slices.Equal(short.PlannedPrivate, full.PlannedPrivate) {
				t.Errorf("planned private state %q, want %q", short.PlannedPrivate, full.PlannedPrivate)
			}
			if fmt.Sprint(diagnosticsText(short.Diagnostics)) != fmt.Sprint(diagnosticsText(full.Diagnostics)) {
				t.Errorf("diagnostics %v, want %v", diagnosticsText(short.Diagnostics), diagnosticsText(full.Diagnostics))
			}
			if fmt.Sprint(short.RequiresReplace) != fmt.Sprint(full.RequiresReplace) {
				t.Errorf("requires replace %v, want %v", short.RequiresReplace, full.RequiresReplace)
			}
		})
	}
}

// migrationValues builds unkey_key_migration's Terraform values: a
// configuration, a state and Terraform's proposed new state, for one
// migration_id and api_id.
type migrationValues struct {
	t                  testing.TB
	ctx                context.Context
	objType            tftypes.Object
	keysType           tftypes.Map
	migrationID, apiID string
}

func newMigrationValues(t testing.TB, migrationID, apiID string) migrationValues {
	ctx := context.Background()
	var sch resource.SchemaResponse
	NewKeyMigrationResource().Schema(ctx, resource.SchemaRequest{}, &sch)
	objType := sch.Schema.Type().TerraformType(ctx).(tftypes.Object)
	return migrationValues{t: t, ctx: ctx, objType: objType, keysType: objType.AttributeTypes["keys"].(tftypes.Map), migrationID: migrationID, apiID: apiID}
}

func (m migrationValues) str(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }

func (m migrationValues) null(name string) tftypes.Value {
	return tftypes.NewValue(m.objType.AttributeTypes[name], nil)
}

func (m migrationValues) set(s ...string) tftypes.Value {
	vals := make([]tftypes.Value, len(s))
	for i := range s {
		vals[i] = m.str(s[i])
	}
	return tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, vals)
}

// keys is a map of n hashes hash-0... with alternately full and null
// settings, changed by change.
func (m migrationValues) keys(n int, change func(elems map[string]tftypes.Value)) tftypes.Value {
	elems := map[string]tftypes.Value{}
	for i := range n {
		elems[fmt.Sprintf("hash-%d", i)] = sampleKeySettings(m.t, m.ctx, keysAttribute(), i%2 == 0)
	}
	if change != nil {
		change(elems)
	}
	return tftypes.NewValue(m.keysType, elems)
}

func (m migrationValues) renamed(elems map[string]tftypes.Value) {
	elems["hash-1"] = sampleKeySettings(m.t, m.ctx, keysAttribute(), true)
}

func (m migrationValues) added(elems map[string]tftypes.Value) {
	elems["hash-9"] = sampleKeySettings(m.t, m.ctx, keysAttribute(), true)
}

func (m migrationValues) unknownKey(elems map[string]tftypes.Value) {
	elems["hash-9"] = tftypes.NewValue(m.keysType.ElementType, tftypes.UnknownValue)
}

// withRatelimitDuration is a full keys element whose rate limit lasts d.
func (m migrationValues) withRatelimitDuration(key tftypes.Value, d string) tftypes.Value {
	var attrs map[string]tftypes.Value
	var limits []tftypes.Value
	if err := key.As(&attrs); err != nil {
		m.t.Fatal(err)
	}
	if err := attrs["ratelimits"].As(&limits); err != nil {
		m.t.Fatal(err)
	}
	limits = []tftypes.Value{m.with(limits[0], "duration", m.str(d))}
	return m.with(key, "ratelimits", tftypes.NewValue(attrs["ratelimits"].Type(), limits))
}

// withCredits is a full keys element with remaining credits set to n.
func (m migrationValues) withCredits(key tftypes.Value, n tftypes.Value) tftypes.Value {
	var attrs map[string]tftypes.Value
	if err := key.As(&attrs); err != nil {
		m.t.Fatal(err)
	}
	return m.with(key, "credits", m.with(attrs["credits"], "remaining", n))
}

func (m migrationValues) keyIDs(hashes ...string) tftypes.Value {
	ids := map[string]tftypes.Value{}
	for _, h := range hashes {
		ids[h] = m.str("key_" + h)
	}
	return tftypes.NewValue(m.objType.AttributeTypes["key_ids"], ids)
}

func (m migrationValues) object(attrs map[string]tftypes.Value) tftypes.Value {
	return tftypes.NewValue(m.objType, attrs)
}

// with is v, an object, with its attributes name set to value.
func (m migrationValues) with(v tftypes.Value, nameValues ...any) tftypes.Value {
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		m.t.Fatal(err)
	}
	attrs = maps.Clone(attrs)
	for i := 0; i < len(nameValues); i += 2 {
		attrs[nameValues[i].(string)] = nameValues[i+1].(tftypes.Value)
	}
	return tftypes.NewValue(v.Type(), attrs)
}

func (m migrationValues) config(apiID string, keys tftypes.Value) tftypes.Value {
	attrs := map[string]tftypes.Value{}
	for name := range m.objType.AttributeTypes {
		attrs[name] = m.null(name)
	}
	attrs["migration_id"], attrs["api_id"], attrs["keys"] = m.str(m.migrationID), m.str(apiID), keys
	return m.object(attrs)
}

func (m migrationValues) state(keys, ids tftypes.Value) tftypes.Value {
	attrs := map[string]tftypes.Value{}
	for name := range m.objType.AttributeTypes {
		attrs[name] = m.null(name)
	}
	attrs["id"], attrs["migration_id"], attrs["api_id"], attrs["keys"] = m.str(m.migrationID+"/"+m.apiID), m.str(m.migrationID), m.str(m.apiID), keys
	attrs["batch_size"], attrs["deletion_policy"] = tftypes.NewValue(tftypes.Number, 500), m.str("abandon")
	attrs["change_summary"], attrs["key_ids"] = m.str("5 to migrate, 0 to update, 0 to remove"), ids
	attrs["failed_hashes"], attrs["unconfirmed_hashes"] = m.set("hash-3"), m.set("hash-4")
	return m.object(attrs)
}

// proposed is what Terraform proposes: the configuration, with the prior
// state's computed values.
func (m migrationValues) proposed(config, prior tftypes.Value) tftypes.Value {
	if prior.IsNull() || config.IsNull() {
		return config // a create, or a destroy
	}
	var c, p map[string]tftypes.Value
	if err := config.As(&c); err != nil {
		m.t.Fatal(err)
	}
	if err := prior.As(&p); err != nil {
		m.t.Fatal(err)
	}
	out := maps.Clone(p)
	for name, v := range c {
		if !v.IsNull() || !m.computed(name) {
			out[name] = v
		}
	}
	return m.object(out)
}

func (m migrationValues) computed(name string) bool {
	switch name {
	case "id", "batch_size", "deletion_policy", "change_summary", "key_ids", "key_ids_json", "failed_hashes", "unconfirmed_hashes":
		return true
	}
	return false
}

func dynamicValue(t *testing.T, typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

// planThrough plans req on the provider's protocol server with shortcut as
// ModifyPlan's unchangedKeysShortcut.
func planThrough(t *testing.T, req *tfprotov6.PlanResourceChangeRequest, shortcut func(*keyMigrationResource, context.Context, resource.ModifyPlanRequest, *resource.ModifyPlanResponse) bool) *tfprotov6.PlanResourceChangeResponse {
	t.Helper()
	saved := unchangedKeysShortcut
	unchangedKeysShortcut = shortcut
	defer func() { unchangedKeysShortcut = saved }()
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.PlanResourceChange(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.PlannedState == nil {
		t.Fatalf("no planned state: %v", diagnosticsText(resp.Diagnostics))
	}
	return resp
}

func diagnosticsText(diags []*tfprotov6.Diagnostic) []string {
	out := make([]string, len(diags))
	for i, d := range diags {
		out[i] = fmt.Sprintf("%v %s: %s (%v)", d.Severity, d.Summary, d.Detail, d.Attribute)
	}
	return out
}
