package provider

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// keyValues builds keys elements for validation cases: a key with every
// setting (sampleKeySettings) changed at paths inside it.
type keyValues struct {
	t        *testing.T
	elemType tftypes.Object
}

// with is v with the value at steps (attribute names and list indexes)
// replaced by value.
func (k keyValues) with(v tftypes.Value, value tftypes.Value, steps ...any) tftypes.Value {
	k.t.Helper()
	if len(steps) == 0 {
		return value
	}
	switch step := steps[0].(type) {
	case string:
		var attrs map[string]tftypes.Value
		if err := v.As(&attrs); err != nil {
			k.t.Fatal(err)
		}
		out := make(map[string]tftypes.Value, len(attrs))
		for name, a := range attrs {
			out[name] = a
		}
		out[step] = k.with(attrs[step], value, steps[1:]...)
		return tftypes.NewValue(v.Type(), out)
	case int:
		var elems []tftypes.Value
		if err := v.As(&elems); err != nil {
			k.t.Fatal(err)
		}
		elems = slices.Clone(elems)
		elems[step] = k.with(elems[step], value, steps[1:]...)
		return tftypes.NewValue(v.Type(), elems)
	}
	k.t.Fatalf("step %v", steps[0])
	return v
}

func (k keyValues) full() tftypes.Value {
	return sampleKeySettings(k.t, context.Background(), keysAttribute(), true)
}

// set is a full key with the value at steps replaced.
func (k keyValues) set(value tftypes.Value, steps ...any) tftypes.Value {
	return k.with(k.full(), value, steps...)
}

func (k keyValues) typeAt(steps ...any) tftypes.Type {
	var typ tftypes.Type = k.elemType
	for _, step := range steps {
		switch s := step.(type) {
		case string:
			typ = typ.(tftypes.Object).AttributeTypes[s]
		case int:
			typ = typ.(tftypes.List).ElementType
		}
	}
	return typ
}

func (k keyValues) unknown(steps ...any) tftypes.Value {
	return k.set(tftypes.NewValue(k.typeAt(steps...), tftypes.UnknownValue), steps...)
}

func (k keyValues) null(steps ...any) tftypes.Value {
	return k.set(tftypes.NewValue(k.typeAt(steps...), nil), steps...)
}

func strs(s ...string) tftypes.Value {
	vals := make([]tftypes.Value, len(s))
	for i := range s {
		vals[i] = tftypes.NewValue(tftypes.String, s[i])
	}
	return tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, vals)
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// ratelimits is a list of rate limits with these names, each otherwise valid.
func (k keyValues) ratelimits(names ...string) tftypes.Value {
	listType := k.typeAt("ratelimits").(tftypes.List)
	elems := make([]tftypes.Value, len(names))
	for i, name := range names {
		elems[i] = tftypes.NewValue(listType.ElementType, map[string]tftypes.Value{
			"name": tftypes.NewValue(tftypes.String, name), "limit": tftypes.NewValue(tftypes.Number, 10),
			"duration": tftypes.NewValue(tftypes.String, "1s"), "auto_apply": tftypes.NewValue(tftypes.Bool, nil),
		})
	}
	return tftypes.NewValue(listType, elems)
}

// TestValidateKeysMapAsTheFramework validates each configuration through
// the framework's own server and through keysMapServer: the diagnostics
// must be the same (the framework's order among attributes and map elements
// is Go's map order, so they are compared sorted), and keysMapServer must
// validate the keys itself exactly where expected.
func TestValidateKeysMapAsTheFramework(t *testing.T) {
	t.Parallel()
	m := newMigrationValues(t, "mig_1", "api_1")
	k := keyValues{t: t, elemType: m.keysType.ElementType.(tftypes.Object)}
	str := m.str
	num := func(n int64) tftypes.Value { return tftypes.NewValue(tftypes.Number, n) }
	keysOf := func(elems ...tftypes.Value) tftypes.Value {
		out := map[string]tftypes.Value{}
		for i, e := range elems {
			out[fmt.Sprintf("hash-%d", i)] = e
		}
		return tftypes.NewValue(m.keysType, out)
	}
	one := func(key tftypes.Value) tftypes.Value { return m.config("api_1", keysOf(key)) }
	metaProps := make([]string, 101)
	for i := range metaProps {
		metaProps[i] = fmt.Sprintf("%q: %d", fmt.Sprint("p", i), i)
	}
	allNull := sampleKeySettings(t, context.Background(), keysAttribute(), false)
	many := func(n int, bad func(i int) tftypes.Value) tftypes.Value {
		elems := map[string]tftypes.Value{}
		for i := range n {
			elems[fmt.Sprintf("%044d", i)] = bad(i)
		}
		return m.config("api_1", tftypes.NewValue(m.keysType, elems))
	}
	hugeBig := new(big.Float).SetInt(new(big.Int).Lsh(big.NewInt(1), 70))

	cases := map[string]struct {
		config tftypes.Value
		taken  bool // keysMapServer validates the keys itself
	}{
		"a full key":                          {config: one(k.full()), taken: true},
		"a key of nulls":                      {config: one(allNull), taken: true},
		"name empty":                          {config: one(k.set(str(""), "name")), taken: true},
		"name 256 characters":                 {config: one(k.set(str(strings.Repeat("n", 256)), "name")), taken: true},
		"name unknown":                        {config: one(k.unknown("name")), taken: true},
		"external_id empty":                   {config: one(k.set(str(""), "external_id")), taken: true},
		"external_id 256 characters":          {config: one(k.set(str(strings.Repeat("e", 256)), "external_id")), taken: true},
		"meta not JSON":                       {config: one(k.set(str("{plan: pro"), "meta")), taken: true},
		"meta an array":                       {config: one(k.set(str(`[1]`), "meta")), taken: true},
		"meta JSON null":                      {config: one(k.set(str(`null`), "meta")), taken: true},
		"meta 101 properties":                 {config: one(k.set(str("{"+strings.Join(metaProps, ",")+"}"), "meta")), taken: true},
		"meta empty object":                   {config: one(k.set(str(`{}`), "meta")), taken: true},
		"meta unknown":                        {config: one(k.unknown("meta")), taken: true},
		"roles 101":                           {config: one(k.set(strs(numbered("role", 101)...), "roles")), taken: true},
		"roles empty and too long":            {config: one(k.set(strs("", strings.Repeat("r", 129), "ok"), "roles")), taken: true},
		"roles unknown":                       {config: one(k.unknown("roles")), taken: true},
		"permissions 1001":                    {config: one(k.set(strs(numbered("p", 1001)...), "permissions")), taken: true},
		"permissions bad characters":          {config: one(k.set(strs("api read", "", "x/y", strings.Repeat("p", 129)), "permissions")), taken: true},
		"permissions empty set":               {config: one(k.set(strs(), "permissions")), taken: true},
		"expires not a timestamp":             {config: one(k.set(str("tomorrow"), "expires")), taken: true},
		"expires 2100":                        {config: one(k.set(str("2100-01-01T00:00:00Z"), "expires")), taken: true},
		"expires before 1970":                 {config: one(k.set(str("1969-12-31T23:59:59Z"), "expires")), taken: true},
		"expires unknown":                     {config: one(k.unknown("expires")), taken: true},
		"enabled false":                       {config: one(k.set(tftypes.NewValue(tftypes.Bool, false), "enabled")), taken: true},
		"credits remaining -1":                {config: one(k.set(num(-1), "credits", "remaining")), taken: true},
		"credits remaining unset":             {config: one(k.null("credits", "remaining"))},
		"credits null":                        {config: one(k.null("credits")), taken: true},
		"credits unknown":                     {config: one(k.unknown("credits")), taken: true},
		"refill amount 0":                     {config: one(k.set(num(0), "credits", "refill", "amount")), taken: true},
		"refill interval weekly":              {config: one(k.set(str("weekly"), "credits", "refill", "interval")), taken: true},
		"refill_day 0":                        {config: one(k.set(num(0), "credits", "refill", "refill_day")), taken: true},
		"refill_day 32":                       {config: one(k.set(num(32), "credits", "refill", "refill_day")), taken: true},
		"monthly without refill_day":          {config: one(k.null("credits", "refill", "refill_day")), taken: true},
		"daily with refill_day":               {config: one(k.set(str("daily"), "credits", "refill", "interval")), taken: true},
		"refill_day unknown":                  {config: one(k.unknown("credits", "refill", "refill_day")), taken: true},
		"refill unknown":                      {config: one(k.unknown("credits", "refill")), taken: true},
		"refill null":                         {config: one(k.null("credits", "refill")), taken: true},
		"refill interval unset":               {config: one(k.null("credits", "refill", "interval"))},
		"remaining 1.5":                       {config: one(k.set(tftypes.NewValue(tftypes.Number, big.NewFloat(1.5)), "credits", "remaining"))},
		"remaining 2^70":                      {config: one(k.set(tftypes.NewValue(tftypes.Number, hugeBig), "credits", "remaining"))},
		"51 ratelimits":                       {config: one(k.set(k.ratelimits(numbered("rate", 51)...), "ratelimits")), taken: true},
		"51 ratelimits, one limit 0":          {config: one(k.set(k.with(k.ratelimits(numbered("rate", 51)...), num(0), 0, "limit"), "ratelimits")), taken: true},
		"ratelimit names repeated, a limit 0": {config: one(k.set(k.with(k.ratelimits("req", "req"), num(0), 1, "limit"), "ratelimits")), taken: true},
		"daily with refill_day, amount 0":     {config: one(k.with(k.set(str("daily"), "credits", "refill", "interval"), num(0), "credits", "refill", "amount")), taken: true},
		"ratelimit names repeated":            {config: one(k.set(k.ratelimits("req", "abc", "req", "abc", "req"), "ratelimits")), taken: true},
		"ratelimit name too short":            {config: one(k.set(k.ratelimits("ab"), "ratelimits")), taken: true},
		"ratelimit limit 0":                   {config: one(k.set(num(0), "ratelimits", 0, "limit")), taken: true},
		"ratelimit duration 1x":               {config: one(k.set(str("1x"), "ratelimits", 0, "duration")), taken: true},
		"ratelimit duration 500ms":            {config: one(k.set(str("500ms"), "ratelimits", 0, "duration")), taken: true},
		"ratelimit duration 1.0005s":          {config: one(k.set(str("1000500us"), "ratelimits", 0, "duration")), taken: true},
		"ratelimit name unknown":              {config: one(k.unknown("ratelimits", 0, "name")), taken: true},
		"ratelimit name unset":                {config: one(k.null("ratelimits", 0, "name"))},
		"ratelimit null":                      {config: one(k.null("ratelimits", 0))},
		"ratelimit unknown":                   {config: one(k.unknown("ratelimits", 0))},
		"ratelimits unknown":                  {config: one(k.unknown("ratelimits")), taken: true},
		"ratelimits empty":                    {config: one(k.set(k.ratelimits(), "ratelimits")), taken: true},
		"many problems in one key":            {config: one(k.with(k.with(k.set(str(""), "name"), str("[]"), "meta"), num(0), "ratelimits", 0, "limit")), taken: true},
		"a key unknown":                       {config: m.config("api_1", keysOf(k.full(), tftypes.NewValue(k.elemType, tftypes.UnknownValue))), taken: true},
		"a key null":                          {config: m.config("api_1", keysOf(k.full(), tftypes.NewValue(k.elemType, nil))), taken: true},
		"keys empty":                          {config: m.config("api_1", keysOf())},
		"a hash too short":                    {config: m.config("api_1", tftypes.NewValue(m.keysType, map[string]tftypes.Value{"ab": k.set(str(""), "name")})), taken: true},
		"keys unknown":                        {config: m.config("api_1", tftypes.NewValue(m.keysType, tftypes.UnknownValue))},
		"keys null":                           {config: m.config("api_1", m.null("keys"))},
		"keys and keys_json":                  {config: m.with(one(k.set(str(""), "name")), "keys_json", str(`[{"hash":"abc"}]`)), taken: true},
		"hash_format refuses hashes":          {config: m.with(one(k.set(str("x"), "expires")), "hash_format", str(hashFormatSHA256Hex)), taken: true},
		"hash_format unknown":                 {config: m.with(one(k.set(str("x"), "expires")), "hash_format", tftypes.NewValue(tftypes.String, tftypes.UnknownValue)), taken: true},
		"batch_size 0 and a bad key":          {config: m.with(one(k.set(str(""), "name")), "batch_size", num(0)), taken: true},
		"1,500 keys, every 100th bad": {config: many(1500, func(i int) tftypes.Value {
			return map[bool]tftypes.Value{true: k.set(str("soon"), "expires"), false: k.full()}[i%100 == 0]
		}), taken: true},
	}
	framework := frameworkServer()
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dv, err := tfprotov6.NewDynamicValue(m.objType, c.config)
			if err != nil {
				t.Fatal(err)
			}
			req := &tfprotov6.ValidateResourceConfigRequest{TypeName: keyMigrationTypeName, Config: &dv}
			want, err := framework.ValidateResourceConfig(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			ours := newKeysMapServer()
			got, err := ours.ValidateResourceConfig(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := sortedDiagnostics(got.Diagnostics), sortedDiagnostics(want.Diagnostics); !slices.Equal(g, w) {
				t.Errorf("diagnostics differ from the framework's:\n got: %s\nwant: %s", strings.Join(g, "\n      "), strings.Join(w, "\n      "))
			}
			if taken := ours.shortcuts.validations.Load() == 1; taken != c.taken {
				t.Errorf("keysMapServer validated the keys itself: %v, want %v", taken, c.taken)
			}
		})
	}
	t.Run("the table finds problems", func(t *testing.T) {
		t.Parallel()
		// A comparison of empty answers would prove nothing: most cases
		// must draw a diagnostic from a key's own settings.
		var found int
		for _, c := range cases {
			dv, err := tfprotov6.NewDynamicValue(m.objType, c.config)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := framework.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: keyMigrationTypeName, Config: &dv})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range resp.Diagnostics {
				if d.Attribute != nil && len(d.Attribute.Steps()) > 2 {
					found++
					break
				}
			}
		}
		if found < 40 {
			t.Errorf("only %d cases draw a diagnostic about a key's settings", found)
		}
	})
}

// sortedDiagnostics is each diagnostic as one line, sorted.
func sortedDiagnostics(diags []*tfprotov6.Diagnostic) []string {
	out := make([]string, len(diags))
	for i, d := range diags {
		attr := "<none>"
		if d.Attribute != nil {
			attr = d.Attribute.String()
		}
		out[i] = fmt.Sprintf("%s | %s | %s | %q", d.Severity, attr, d.Summary, d.Detail)
	}
	slices.Sort(out)
	return out
}

// TestKeysSchemaIsTheResources guards keysSchema against drifting from the
// schema the framework validates with.
func TestKeysSchemaIsTheResources(t *testing.T) {
	t.Parallel()
	var sch resource.SchemaResponse
	NewKeyMigrationResource().Schema(context.Background(), resource.SchemaRequest{}, &sch)
	got, keys := keysSchema()
	if !got.Type().Equal(sch.Schema.Type()) || !keys.GetType().Equal(sch.Schema.Attributes["keys"].GetType()) {
		t.Fatal("keysSchema is not unkey_key_migration's schema")
	}
}

// BenchmarkValidateKeysMap validates 3,000 keys with every setting through
// the framework's server and through keysMapServer.
func BenchmarkValidateKeysMap(b *testing.B) {
	m := newMigrationValues(b, "mig_1", "api_1")
	elems := map[string]tftypes.Value{}
	for i := range 3000 {
		elems[fmt.Sprintf("%044d", i)] = sampleKeySettings(b, context.Background(), keysAttribute(), true)
	}
	dv, err := tfprotov6.NewDynamicValue(m.objType, m.config("api_1", tftypes.NewValue(m.keysType, elems)))
	if err != nil {
		b.Fatal(err)
	}
	req := &tfprotov6.ValidateResourceConfigRequest{TypeName: keyMigrationTypeName, Config: &dv}
	for name, server := range map[string]tfprotov6.ProviderServer{"framework": frameworkServer(), "keysMapServer": newKeysMapServer()} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				resp, err := server.ValidateResourceConfig(context.Background(), req)
				if err != nil || len(resp.Diagnostics) != 1 { // the large-map warning
					b.Fatal(err, resp.Diagnostics)
				}
			}
		})
	}
}
