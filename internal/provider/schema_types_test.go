package provider

import (
	"context"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// withoutCustomTypes undoes withFixedTypes: every CustomType it may set, cleared.
func withoutCustomTypes(a schema.Attribute) schema.Attribute {
	plainObject := func(o schema.NestedAttributeObject) schema.NestedAttributeObject {
		o.CustomType = nil
		o.Attributes = plainAttributes(o.Attributes)
		return o
	}
	switch a := a.(type) {
	case schema.MapNestedAttribute:
		a.CustomType, a.NestedObject = nil, plainObject(a.NestedObject)
		return a
	case schema.ListNestedAttribute:
		a.CustomType, a.NestedObject = nil, plainObject(a.NestedObject)
		return a
	case schema.SingleNestedAttribute:
		a.CustomType, a.Attributes = nil, plainAttributes(a.Attributes)
		return a
	default:
		return a
	}
}

func plainAttributes(attrs map[string]schema.Attribute) map[string]schema.Attribute {
	out := make(map[string]schema.Attribute, len(attrs))
	for name, a := range attrs {
		out[name] = withoutCustomTypes(a)
	}
	return out
}

// TestFixedTypesChangeNothing proves that withFixedTypes changes nothing but
// where the framework gets the types from: the attribute is the same in every
// other field, every nested type is the one the framework computes itself (so
// the schema Terraform sees is the same), every nested attribute has its type
// fixed (or the framework would build it per value again), and a keys value
// reads back the same through either.
func TestFixedTypesChangeNothing(t *testing.T) {
	ctx := context.Background()
	original := keysAttribute()
	fixed := withFixedTypes(keysAttribute())

	if !reflect.DeepEqual(withoutCustomTypes(fixed), schema.Attribute(original)) {
		t.Fatal("withFixedTypes changed more than CustomType")
	}
	var walk func(at string, fixed, original schema.Attribute)
	walk = func(at string, fixed, original schema.Attribute) {
		if !fixed.GetType().Equal(original.GetType()) || reflect.TypeOf(fixed.GetType()) != reflect.TypeOf(original.GetType()) {
			t.Errorf("%s: type %s (%T), want %s (%T)", at, fixed.GetType(), fixed.GetType(), original.GetType(), original.GetType())
		}
		var fixedAttrs, originalAttrs map[string]schema.Attribute
		switch f := fixed.(type) {
		case schema.MapNestedAttribute:
			fixedAttrs, originalAttrs = f.NestedObject.Attributes, original.(schema.MapNestedAttribute).NestedObject.Attributes
			if f.CustomType == nil || f.NestedObject.CustomType == nil {
				t.Errorf("%s: type not fixed", at)
			}
		case schema.ListNestedAttribute:
			fixedAttrs, originalAttrs = f.NestedObject.Attributes, original.(schema.ListNestedAttribute).NestedObject.Attributes
			if f.CustomType == nil || f.NestedObject.CustomType == nil {
				t.Errorf("%s: type not fixed", at)
			}
		case schema.SingleNestedAttribute:
			fixedAttrs, originalAttrs = f.Attributes, original.(schema.SingleNestedAttribute).Attributes
			if f.CustomType == nil {
				t.Errorf("%s: type not fixed", at)
			}
		}
		for name, a := range fixedAttrs {
			walk(at+"."+name, a, originalAttrs[name])
		}
	}
	walk("keys", fixed, original)

	// The whole resource schema, as Terraform sees it, against one with the
	// framework's own types.
	var resp resource.SchemaResponse
	NewKeyMigrationResource().Schema(ctx, resource.SchemaRequest{}, &resp)
	plain := resp.Schema
	plain.Attributes = plainAttributes(resp.Schema.Attributes)
	if got, want := resp.Schema.Type().TerraformType(ctx), plain.Type().TerraformType(ctx); !got.Equal(want) {
		t.Errorf("schema type %s, want %s", got, want)
	}

	// One key with every setting, and one with none, read through both.
	raw := tftypes.NewValue(original.GetType().TerraformType(ctx), map[string]tftypes.Value{
		"full": sampleKeySettings(t, ctx, original, true), "empty": sampleKeySettings(t, ctx, original, false),
	})
	got, err := fixed.GetType().ValueFromTerraform(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	want, err := original.GetType().ValueFromTerraform(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) || reflect.TypeOf(got) != reflect.TypeOf(want) {
		t.Errorf("keys read as %s (%T), want %s (%T)", got, got, want, want)
	}
}

// sampleKeySettings is a keys element with every attribute set, or all null.
func sampleKeySettings(t testing.TB, ctx context.Context, keys schema.MapNestedAttribute, full bool) tftypes.Value {
	t.Helper()
	typ := keys.NestedObject.Type().TerraformType(ctx)
	if !full {
		return nullObject(typ)
	}
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	num := func(n int64) tftypes.Value { return tftypes.NewValue(tftypes.Number, n) }
	strs := func(s ...string) tftypes.Value {
		vals := make([]tftypes.Value, len(s))
		for i := range s {
			vals[i] = str(s[i])
		}
		return tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, vals)
	}
	ot := typ.(tftypes.Object).AttributeTypes
	credits := ot["credits"].(tftypes.Object)
	ratelimit := ot["ratelimits"].(tftypes.List).ElementType
	return tftypes.NewValue(typ, map[string]tftypes.Value{
		"name": str("n"), "external_id": str("user_1"), "meta": str(`{"plan":"pro"}`),
		"roles": strs("admin"), "permissions": strs("api.read"), "expires": str("2030-01-01T00:00:00Z"),
		"enabled": tftypes.NewValue(tftypes.Bool, true),
		"credits": tftypes.NewValue(credits, map[string]tftypes.Value{
			"remaining": num(10),
			"refill": tftypes.NewValue(credits.AttributeTypes["refill"], map[string]tftypes.Value{
				"interval": str("monthly"), "amount": num(5), "refill_day": num(1),
			}),
		}),
		"ratelimits": tftypes.NewValue(ot["ratelimits"], []tftypes.Value{tftypes.NewValue(ratelimit, map[string]tftypes.Value{
			"name": str("requests"), "limit": num(100), "duration": str("1m"), "auto_apply": tftypes.NewValue(tftypes.Bool, true),
		})}),
	})
}

func nullObject(typ tftypes.Type) tftypes.Value {
	attrs := map[string]tftypes.Value{}
	for name, at := range typ.(tftypes.Object).AttributeTypes {
		attrs[name] = tftypes.NewValue(at, nil)
	}
	return tftypes.NewValue(typ, attrs)
}
