package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/provider"
)

// TestMain lets Terraform start this test binary as the schema floor
// provider, as it starts unkey-bench.
func TestMain(m *testing.M) {
	if os.Getenv(floorProviderEnv) != "" {
		if err := serveSchemaFloor(); err != nil {
			panic(err)
		}
		return
	}
	os.Exit(m.Run())
}

func TestSchemaFloorServesTheProvidersSchema(t *testing.T) {
	ctx := context.Background()
	fp, err := newFloorProvider(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fp.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	prov := provider.NewServer("test")()
	want, err := prov.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the schema floor's schema differs from the provider's")
	}
	var computed []string
	for name := range fp.computed {
		computed = append(computed, name)
	}
	for _, name := range []string{"key_ids", "change_summary", "failed_hashes"} {
		if _, ok := fp.computed[name]; !ok {
			t.Errorf("%s is not among the computed attributes %v", name, computed)
		}
	}
	if _, ok := fp.computed["keys"]; ok {
		t.Error("keys is taken for a computed attribute")
	}
}

// migrationValue is an unkey_key_migration object with every attribute
// null but the IDs and keys (hash => name).
func migrationValue(t *testing.T, fp *floorProvider, keys map[string]string) (tftypes.Object, tftypes.Value) {
	t.Helper()
	typ, ok := fp.schema.ResourceSchemas[migrationType].ValueType().(tftypes.Object)
	if !ok {
		t.Fatal("the resource's type is not an object")
	}
	elem := typ.AttributeTypes["keys"].(tftypes.Map).ElementType.(tftypes.Object) //nolint:forcetypeassert // the provider's schema
	entries := map[string]tftypes.Value{}
	for hash, name := range keys {
		entries[hash] = tftypes.NewValue(elem, nullsBut(elem, map[string]tftypes.Value{"name": tftypes.NewValue(tftypes.String, name)}))
	}
	attrs := nullsBut(typ, map[string]tftypes.Value{
		"migration_id": tftypes.NewValue(tftypes.String, "mig_1"),
		"api_id":       tftypes.NewValue(tftypes.String, "api_1"),
		"keys":         tftypes.NewValue(typ.AttributeTypes["keys"], entries),
	})
	return typ, tftypes.NewValue(typ, attrs)
}

func nullsBut(typ tftypes.Object, set map[string]tftypes.Value) map[string]tftypes.Value {
	out := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		out[name] = tftypes.NewValue(at, nil)
		if v, ok := set[name]; ok {
			out[name] = v
		}
	}
	return out
}

func dynamic(t *testing.T, typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

func attrsOf(t *testing.T, typ tftypes.Object, dv *tfprotov6.DynamicValue) map[string]tftypes.Value {
	t.Helper()
	v, err := dv.Unmarshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		t.Fatal(err)
	}
	return attrs
}

func TestSchemaFloorPlansUnknownsOnCreateAndAppliesPlausibleValues(t *testing.T) {
	ctx := context.Background()
	fp, err := newFloorProvider(ctx)
	if err != nil {
		t.Fatal(err)
	}
	typ, proposed := migrationValue(t, fp, map[string]string{"h1": "one", "h2": "two"})
	null := dynamic(t, typ, tftypes.NewValue(typ, nil))

	plan, err := fp.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: migrationType, PriorState: null, ProposedNewState: dynamic(t, typ, proposed)})
	if err != nil || len(plan.Diagnostics) > 0 {
		t.Fatalf("plan: %v %v", err, plan.Diagnostics)
	}
	planned := attrsOf(t, typ, plan.PlannedState)
	for name, v := range planned {
		_, computed := fp.computed[name]
		if computed == v.IsKnown() {
			t.Errorf("%s planned known=%v, want unknown exactly for computed attributes", name, v.IsKnown())
		}
	}
	if !planned["keys"].Equal(attrsOf(t, typ, dynamic(t, typ, proposed))["keys"]) {
		t.Error("the plan changed keys")
	}

	applied, err := fp.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{
		TypeName: migrationType, PriorState: null, PlannedState: plan.PlannedState})
	if err != nil || len(applied.Diagnostics) > 0 {
		t.Fatalf("apply: %v %v", err, applied.Diagnostics)
	}
	state := attrsOf(t, typ, applied.NewState)
	var keyIDs map[string]tftypes.Value
	if err := state["key_ids"].As(&keyIDs); err != nil {
		t.Fatal(err)
	}
	if len(keyIDs) != 2 || keyIDs["h1"].IsNull() || keyIDs["h2"].IsNull() {
		t.Errorf("key_ids %v, want one key ID for h1 and h2", keyIDs)
	}
	for name, v := range state {
		if !v.IsFullyKnown() {
			t.Errorf("%s is still unknown after apply", name)
		}
	}

	// With that state, an unchanged configuration plans the proposed state as it is.
	again, err := fp.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: migrationType, PriorState: applied.NewState, ProposedNewState: applied.NewState})
	if err != nil || len(again.Diagnostics) > 0 || again.PlannedState != applied.NewState {
		t.Fatalf("no-op plan: %v %v; planned state is not the proposed one", err, again.Diagnostics)
	}
}

func TestSchemaFloorUpgradeHandsTheStoredJSONBack(t *testing.T) {
	fp, err := newFloorProvider(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(`{"migration_id":"mig_1"}`)
	resp, err := fp.UpgradeResourceState(context.Background(), &tfprotov6.UpgradeResourceStateRequest{RawState: &tfprotov6.RawState{JSON: raw}})
	if err != nil || len(resp.Diagnostics) > 0 || string(resp.UpgradedState.JSON) != string(raw) {
		t.Fatalf("got %v %v %+v", err, resp.Diagnostics, resp.UpgradedState)
	}
	resp, _ = fp.UpgradeResourceState(context.Background(), &tfprotov6.UpgradeResourceStateRequest{RawState: &tfprotov6.RawState{}})
	if len(resp.Diagnostics) == 0 {
		t.Error("a state without JSON was accepted")
	}
}

// The schema floor through the real Terraform CLI: every step of the
// benchmark, each plan accepted by Terraform as valid, the no-op plan empty,
// and the state holding what the configuration says.
func TestAccSchemaFloorRunsEveryStep(t *testing.T) {
	t.Parallel()
	d, b := runSchemaFloorOfFive(t, inputKeys)
	var st struct {
		Resources []struct {
			Instances []struct {
				Attributes struct {
					Keys   map[string]struct{ Name string } `json:"keys"`
					KeyIDs map[string]string                `json:"key_ids"`
				} `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &st); err != nil || len(st.Resources) != 1 || len(st.Resources[0].Instances) != 1 {
		t.Fatalf("state: %v\n%s", err, b)
	}
	a := st.Resources[0].Instances[0].Attributes
	// key_ids are given at create only: the floor plans updates as proposed.
	if len(a.Keys) != 6 || len(a.KeyIDs) != 5 {
		t.Errorf("%d keys and %d key IDs in state, want 6 and 5", len(a.Keys), len(a.KeyIDs))
	}
	if name := a.Keys[d.migrate[d.changed].Hash].Name; !strings.HasSuffix(name, renamedSuffix) {
		t.Errorf("the changed key's name in state is %q", name)
	}
}

// The keys_file schema floor through the real Terraform CLI: every step,
// and a state whose key_ids_json holds a key ID for each hash of the file,
// as the provider's would, so that its plans cost Terraform what the
// provider's state does.
func TestAccSchemaFloorRunsEveryStep_keysFile(t *testing.T) {
	t.Parallel()
	d, b := runSchemaFloorOfFive(t, inputKeysFile)
	var st struct {
		Resources []struct {
			Instances []struct {
				Attributes struct {
					KeysFile   string `json:"keys_file"`
					KeyIDsJSON string `json:"key_ids_json"`
				} `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &st); err != nil || len(st.Resources) != 1 || len(st.Resources[0].Instances) != 1 {
		t.Fatalf("state: %v\n%s", err, b)
	}
	a := st.Resources[0].Instances[0].Attributes
	var ids map[string]string
	if err := json.Unmarshal([]byte(a.KeyIDsJSON), &ids); err != nil {
		t.Fatalf("key_ids_json %q: %v", a.KeyIDsJSON, err)
	}
	// key_ids_json is given at create only: the floor plans updates as proposed.
	if len(ids) != 5 || a.KeysFile == "" {
		t.Errorf("keys_file %q and %d key IDs in state, want a path and 5", a.KeysFile, len(ids))
	}
	for _, k := range d.migrate[:5] {
		if !strings.HasPrefix(ids[k.Hash], "key_floor") {
			t.Errorf("no key ID for hash %s in key_ids_json %s", k.Hash, a.KeyIDsJSON)
		}
	}
}

// runSchemaFloorOfFive runs every step of the schema floor for input on 5
// generated keys through the real Terraform CLI, checks that each step ran
// and was measured, and returns the dataset and the final state file.
func runSchemaFloorOfFive(t *testing.T, input string) (*dataset, []byte) {
	t.Helper()
	acctest.RequireAcc(t)
	if _, err := acctest.EnsureTerraformCLI(); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	floorDir, err := floorPluginDir(root)
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDataset(5, 1, mixFull)
	if err != nil {
		t.Fatal(err)
	}
	r := &tfRunner{tb: &benchTB{root: root}, floorDir: floorDir, limits: limits{timeout: 5 * time.Minute}, keep: true, log: t.Logf}
	res := r.runSchemaFloor(d, input)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	for name, s := range map[string]stepResult{"apply": res.Apply, "plan": res.Plan, "add": res.Add, "change": res.Change} {
		if !s.ok() || s.Prov.Procs == 0 {
			t.Errorf("%s: ok %v, %d provider processes measured", name, s.ok(), s.Prov.Procs)
		}
	}
	b, err := os.ReadFile(filepath.Join(root, fmt.Sprintf("n5-%s-schema-floor", input), "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	return d, b
}
