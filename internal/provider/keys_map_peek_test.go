package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// peekAgreesWithDecode fails t unless peekKeysNull says of dv what decoding
// it in full says: whenever the full decode reads the object, the peek reads
// it too and finds keys null exactly when it is; whenever the peek answers,
// the full decode (if it reads the object) finds the same.
func peekAgreesWithDecode(t *testing.T, dv *tfprotov6.DynamicValue) (null, ok bool) {
	t.Helper()
	null, ok = peekKeysNull(dv)
	keys, err := decodeKeys(dv)
	if err != nil {
		return null, ok
	}
	if !ok {
		t.Fatalf("the full decode read the object (keys null: %v) but the peek could not", keys.IsNull())
	}
	if null != keys.IsNull() {
		t.Fatalf("peek says keys null: %v; the full decode: %v", null, keys.IsNull())
	}
	return null, ok
}

// decodeKeys is the keys attribute of dv decoded in full; an error for
// bytes tftypes cannot read, including those it panics on (an object with
// an attribute twice).
func decodeKeys(dv *tfprotov6.DynamicValue) (keys tftypes.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tftypes panicked: %v", r)
		}
	}()
	_, keys, err = withoutKeys(keyMigrationType(), dv)
	return keys, err
}

func TestPeekKeysNullAsTheFullDecode(t *testing.T) {
	t.Parallel()
	m := newMigrationValues(t, "mig_1", "api_1")
	big := strings.Repeat(`{"hash":"h"},`, 400_000) // 5 MB: a str32 string
	jsonState := m.with(m.config("api_1", m.null("keys")), "keys_json", m.str(big), "key_ids_json", m.str(big[:70_000]))
	unknownKeys := tftypes.NewValue(m.keysType, tftypes.UnknownValue)
	cases := map[string]struct {
		value    tftypes.Value
		null, ok bool
	}{
		"keys null":                 {value: m.config("api_1", m.null("keys")), null: true, ok: true},
		"keys null, 5 MB strings":   {value: jsonState, null: true, ok: true},
		"keys known":                {value: m.config("api_1", m.keys(5, nil)), ok: true},
		"keys known, one unknown":   {value: m.config("api_1", m.keys(5, m.unknownKey)), ok: true},
		"keys unknown":              {value: m.config("api_1", unknownKeys), ok: true},
		"keys empty":                {value: m.config("api_1", tftypes.NewValue(m.keysType, map[string]tftypes.Value{})), ok: true},
		"api_id unknown, keys null": {value: m.with(m.config("api_1", m.null("keys")), "api_id", tftypes.NewValue(tftypes.String, tftypes.UnknownValue)), null: true, ok: true},
		"object null":               {value: tftypes.NewValue(m.objType, nil), null: true, ok: true},
		"object unknown":            {value: tftypes.NewValue(m.objType, tftypes.UnknownValue)},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dv, err := tfprotov6.NewDynamicValue(m.objType, c.value)
			if err != nil {
				t.Fatal(err)
			}
			null, ok := peekAgreesWithDecode(t, &dv)
			if null != c.null || ok != c.ok {
				t.Fatalf("peek: null %v, ok %v; want null %v, ok %v", null, ok, c.null, c.ok)
			}
			if truncated := (&tfprotov6.DynamicValue{MsgPack: dv.MsgPack[:len(dv.MsgPack)/2]}); len(dv.MsgPack) > 1 {
				peekAgreesWithDecode(t, truncated)
			}
		})
	}
	t.Run("JSON is left to the full decode", func(t *testing.T) {
		t.Parallel()
		dv := &tfprotov6.DynamicValue{JSON: []byte(`{"keys": null}`)}
		if _, ok := peekKeysNull(dv); ok {
			t.Fatal("the peek answered for a JSON DynamicValue")
		}
		if keysNullInAll(dv) {
			t.Fatal("keysNullInAll is true for a JSON DynamicValue")
		}
	})
	t.Run("all or nothing", func(t *testing.T) {
		t.Parallel()
		null, err := tfprotov6.NewDynamicValue(m.objType, m.config("api_1", m.null("keys")))
		if err != nil {
			t.Fatal(err)
		}
		known, err := tfprotov6.NewDynamicValue(m.objType, m.config("api_1", m.keys(2, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if !keysNullInAll(&null, &null) || keysNullInAll(&null, &known) || keysNullInAll(&null, nil) {
			t.Fatal("keysNullInAll is not true exactly when keys is null in every value")
		}
	})
}

// FuzzPeekKeysNull feeds the peek and the full decode the same bytes:
// tftypes-encoded configurations and states, and whatever the fuzzer makes
// of them.
func FuzzPeekKeysNull(f *testing.F) {
	m := newMigrationValues(f, "mig_1", "api_1")
	for _, v := range []tftypes.Value{
		m.config("api_1", m.null("keys")),
		m.config("api_1", m.keys(3, nil)),
		m.config("api_1", m.keys(2, m.unknownKey)),
		m.config("api_1", tftypes.NewValue(m.keysType, tftypes.UnknownValue)),
		m.with(m.config("api_1", m.null("keys")), "keys_json", m.str(strings.Repeat("x", 70_000)), "batch_size", tftypes.NewValue(tftypes.Number, 100)),
		tftypes.NewValue(m.objType, nil),
	} {
		dv, err := tfprotov6.NewDynamicValue(m.objType, v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(dv.MsgPack)
	}
	f.Fuzz(func(t *testing.T, msgpack []byte) {
		peekAgreesWithDecode(t, &tfprotov6.DynamicValue{MsgPack: msgpack})
	})
}

// BenchmarkKeysNullCheck is what keysMapServer spends finding keys null in a
// keys_json state of 100,000 keys' size (40 MB of keys_json, 7.6 MB of
// key_ids_json): the full decode it did before, and the peek.
func BenchmarkKeysNullCheck(b *testing.B) {
	m := newMigrationValues(b, "mig_1", "api_1")
	state := m.with(m.config("api_1", m.null("keys")), "keys_json", m.str(strings.Repeat("k", 40_000_000)), "key_ids_json", m.str(strings.Repeat("i", 7_600_000)))
	dv, err := tfprotov6.NewDynamicValue(m.objType, state)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("full decode", func(b *testing.B) {
		for b.Loop() {
			if _, keys, err := withoutKeys(keyMigrationType(), &dv); err != nil || !keys.IsNull() {
				b.Fatal(err)
			}
		}
	})
	b.Run("peek", func(b *testing.B) {
		for b.Loop() {
			if !keysNullInAll(&dv) {
				b.Fatal("keys not found null")
			}
		}
	})
}
