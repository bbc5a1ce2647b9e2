package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// BenchmarkCoreConvertsKeysMap times what Terraform core does to a keys map
// before any provider sees it, and again to validate, plan and apply: cty
// converting the jsondecode'd object (hash => settings) to
// unkey_key_migration's keys type, as hcldec does for the attribute.
// terraform_data's untyped input skips it. Terraform links its own cty
// (1.16.0 in Terraform 1.11.4, whose unify is the same as this module's), and
// types nested attributes with optional attributes, which costs the same:
//
//	go test -run '^$' -bench CoreConvertsKeysMap -benchtime 1x ./cmd/unkey-bench
//
// The cost per key grows with N: convert.unify compares the N types of each
// attribute pair by pair (sortTypes), even when all are the same.
func BenchmarkCoreConvertsKeysMap(b *testing.B) {
	fp, err := newFloorProvider(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	keysType := fp.schema.ResourceSchemas[migrationType].ValueType().(tftypes.Object).AttributeTypes["keys"] //nolint:forcetypeassert // the provider's schema
	want := ctyType(b, keysType)
	for _, n := range []int{1000, 3000, 10000} {
		d, err := newDataset(n, 1, mixFull)
		if err != nil {
			b.Fatal(err)
		}
		js, err := d.keysMap(n, false)
		if err != nil {
			b.Fatal(err)
		}
		ty, err := ctyjson.ImpliedType(js) // what jsondecode does
		if err != nil {
			b.Fatal(err)
		}
		v, err := ctyjson.Unmarshal(js, ty)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := convert.Convert(v, want); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/key")
		})
	}
}

// ctyType is the cty type of a schema type, as Terraform core sees it.
func ctyType(b *testing.B, t tftypes.Type) cty.Type {
	switch v := t.(type) {
	case tftypes.Map:
		return cty.Map(ctyType(b, v.ElementType))
	case tftypes.List:
		return cty.List(ctyType(b, v.ElementType))
	case tftypes.Set:
		return cty.Set(ctyType(b, v.ElementType))
	case tftypes.Object:
		attrs := map[string]cty.Type{}
		for name, at := range v.AttributeTypes {
			attrs[name] = ctyType(b, at)
		}
		return cty.Object(attrs)
	}
	switch {
	case t.Is(tftypes.String):
		return cty.String
	case t.Is(tftypes.Number):
		return cty.Number
	case t.Is(tftypes.Bool):
		return cty.Bool
	}
	b.Fatalf("no cty type for %s", t)
	return cty.NilType
}
