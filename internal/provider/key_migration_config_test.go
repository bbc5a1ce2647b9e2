package provider

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// hashesThroughTheFramework is how ValidateConfig read the hashes before
// configuredHashes: the keys map converted to framework values.
func hashesThroughTheFramework(t *testing.T, config tfsdk.Config) []string {
	t.Helper()
	var keys types.Map
	if diags := config.GetAttribute(context.Background(), path.Root("keys"), &keys); diags.HasError() {
		t.Fatal(diags)
	}
	if keys.IsNull() || keys.IsUnknown() {
		return nil
	}
	return sortedKeys(keys.Elements())
}

// TestConfiguredHashesAsTheFramework runs both readers of the configured
// hashes on the same configurations: they must agree on every one.
func TestConfiguredHashesAsTheFramework(t *testing.T) {
	ctx := context.Background()
	var resp resource.SchemaResponse
	NewKeyMigrationResource().Schema(ctx, resource.SchemaRequest{}, &resp)
	objType := resp.Schema.Type().TerraformType(ctx).(tftypes.Object)
	keysType := objType.AttributeTypes["keys"].(tftypes.Map)
	settings := keysType.ElementType
	config := func(keys tftypes.Value) tfsdk.Config {
		attrs := map[string]tftypes.Value{}
		for name, typ := range objType.AttributeTypes {
			attrs[name] = tftypes.NewValue(typ, nil)
		}
		attrs["keys"] = keys
		return tfsdk.Config{Schema: resp.Schema, Raw: tftypes.NewValue(objType, attrs)}
	}
	keysOf := func(n int, unknownElement bool) tftypes.Value {
		elems := map[string]tftypes.Value{}
		for i := range n {
			elems[fmt.Sprintf("hash-%05d", n-i)] = sampleKeySettings(t, ctx, keysAttribute(), i%2 == 0)
		}
		if unknownElement {
			elems["hash-unknown"] = tftypes.NewValue(settings, tftypes.UnknownValue)
		}
		return tftypes.NewValue(keysType, elems)
	}
	for name, keys := range map[string]tftypes.Value{
		"null":                    tftypes.NewValue(keysType, nil),
		"unknown":                 tftypes.NewValue(keysType, tftypes.UnknownValue),
		"empty":                   tftypes.NewValue(keysType, map[string]tftypes.Value{}),
		"one":                     keysOf(1, false),
		"1,500":                   keysOf(1500, false),
		"with an unknown element": keysOf(3, true),
	} {
		t.Run(name, func(t *testing.T) {
			c := config(keys)
			got, err := configuredHashes(c.Raw)
			if err != nil {
				t.Fatal(err)
			}
			want := hashesThroughTheFramework(t, c)
			if !slices.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("configuredHashes = %d hashes (nil: %v), the framework reads %d (nil: %v)", len(got), got == nil, len(want), want == nil)
			}
		})
	}
}

// TestSetPlannedComputedAsSettingTheModel: from a plan as Terraform proposes
// it (computed attributes unknown, meta as written), setting the model with
// its computed attributes planned in every way ModifyPlan plans them gives
// the same plan as setting only those attributes.
func TestSetPlannedComputedAsSettingTheModel(t *testing.T) {
	ctx := context.Background()
	var resp resource.SchemaResponse
	NewKeyMigrationResource().Schema(ctx, resource.SchemaRequest{}, &resp)
	objType := resp.Schema.Type().TerraformType(ctx).(tftypes.Object)
	keysType := objType.AttributeTypes["keys"].(tftypes.Map)
	full := sampleKeySettings(t, ctx, keysAttribute(), true)
	var fullAttrs map[string]tftypes.Value
	if err := full.As(&fullAttrs); err != nil {
		t.Fatal(err)
	}
	fullAttrs["meta"] = tftypes.NewValue(tftypes.String, "{ \"plan\" :  \"pro\" }") // not normalized
	attrs := map[string]tftypes.Value{}
	for name, typ := range objType.AttributeTypes {
		attrs[name] = tftypes.NewValue(typ, tftypes.UnknownValue) // computed
	}
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	attrs["migration_id"], attrs["api_id"], attrs["hash_format"] = str("mig_1"), str("api_1"), tftypes.NewValue(tftypes.String, nil)
	attrs["batch_size"], attrs["deletion_policy"] = tftypes.NewValue(tftypes.Number, 500), str("abandon")
	attrs["keys_json"], attrs["keys_file"], attrs["keys_file_sha256"] = tftypes.NewValue(tftypes.String, nil), tftypes.NewValue(tftypes.String, nil), tftypes.NewValue(tftypes.String, nil)
	attrs["keys"] = tftypes.NewValue(keysType, map[string]tftypes.Value{
		"hash-a": tftypes.NewValue(keysType.ElementType, fullAttrs),
		"hash-b": sampleKeySettings(t, ctx, keysAttribute(), false),
	})
	proposed := tfsdk.Plan{Schema: resp.Schema, Raw: tftypes.NewValue(objType, attrs)}

	rec := migrationRecord{KeyIDs: map[string]string{"hash-a": "key_a"}, Failed: map[string]bool{"hash-b": true}, Unconfirmed: map[string]bool{}}
	plans := map[string]func(m *keyMigrationModel){
		"create": func(m *keyMigrationModel) {
			m.ChangeSummary = types.StringValue("2 to migrate, 0 to update, 0 to remove")
			m.unknownKeyIDs()
		},
		"from the state's record": func(m *keyMigrationModel) {
			m.ChangeSummary = types.StringValue("1 to migrate, 0 to update, 0 to remove")
			if diags := setRecordOn(ctx, rec, m); diags.HasError() {
				t.Fatal(diags)
			}
		},
		"hashes to send": func(m *keyMigrationModel) {
			m.ChangeSummary = types.StringNull()
			m.unknownKeyIDs()
			m.FailedHashes, m.UnconfirmedHashes = types.SetUnknown(types.StringType), types.SetUnknown(types.StringType)
		},
	}
	for name, planned := range plans {
		t.Run(name, func(t *testing.T) {
			var m keyMigrationModel
			if diags := proposed.Get(ctx, &m); diags.HasError() {
				t.Fatal(diags)
			}
			planned(&m)
			whole, computed := proposed, proposed
			if diags := whole.Set(ctx, &m); diags.HasError() {
				t.Fatal(diags)
			}
			if diags := setPlannedComputed(ctx, &computed, m); diags.HasError() {
				t.Fatal(diags)
			}
			if !computed.Raw.Equal(whole.Raw) {
				diffs, _ := computed.Raw.Diff(whole.Raw)
				t.Errorf("setting the computed attributes differs from setting the model: %v", diffs)
			}
			if computed.Raw.Equal(proposed.Raw) {
				t.Error("nothing was planned") // the comparison above would prove nothing
			}
		})
	}
}

// TestModelWithoutKeysAsTheWholeModel: the partial read of a state
// holds what reading the whole model does, but the keys inputs.
func TestModelWithoutKeysAsTheWholeModel(t *testing.T) {
	ctx := context.Background()
	var resp resource.SchemaResponse
	NewKeyMigrationResource().Schema(ctx, resource.SchemaRequest{}, &resp)
	objType := resp.Schema.Type().TerraformType(ctx).(tftypes.Object)
	keysType := objType.AttributeTypes["keys"].(tftypes.Map)
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	set := func(s ...string) tftypes.Value {
		vals := make([]tftypes.Value, len(s))
		for i := range s {
			vals[i] = str(s[i])
		}
		return tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, vals)
	}
	attrs := map[string]tftypes.Value{
		"id": str("mig_1/api_1"), "migration_id": str("mig_1"), "api_id": str("api_1"), "hash_format": str("sha256_hex"),
		"batch_size": tftypes.NewValue(tftypes.Number, 100), "deletion_policy": str("delete"),
		"keys": tftypes.NewValue(keysType, map[string]tftypes.Value{
			"hash-a": sampleKeySettings(t, ctx, keysAttribute(), true), "hash-b": sampleKeySettings(t, ctx, keysAttribute(), false),
		}),
		"keys_json": tftypes.NewValue(tftypes.String, nil), "keys_file": tftypes.NewValue(tftypes.String, nil), "keys_file_sha256": tftypes.NewValue(tftypes.String, nil),
		"change_summary": str("2 to migrate, 0 to update, 0 to remove"),
		"key_ids":        tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"hash-a": str("key_a")}),
		"key_ids_json":   tftypes.NewValue(tftypes.String, nil),
		"failed_hashes":  set("hash-b"), "unconfirmed_hashes": set(),
	}
	state := tfsdk.State{Schema: resp.Schema, Raw: tftypes.NewValue(objType, attrs)}
	var whole keyMigrationModel
	if diags := state.Get(ctx, &whole); diags.HasError() {
		t.Fatal(diags)
	}
	got, diags := modelWithoutKeys(ctx, state)
	if diags.HasError() {
		t.Fatal(diags)
	}
	want := whole
	want.Keys = types.Map{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("modelWithoutKeys = %+v, want %+v", got, want)
	}
	if !got.KeyIDs.Equal(whole.KeyIDs) || got.ID.ValueString() != "mig_1/api_1" {
		t.Error("the record was not read") // DeepEqual of zero values would prove nothing
	}
}
