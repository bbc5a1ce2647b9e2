package unkeyclient

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// Whatever appendKeyFast writes, json.Marshal writes byte for byte: the fast
// path never changes what Unkey receives.
func FuzzEncodeKeyFast(f *testing.F) {
	f.Add("Acme key #0", "cus_1", `{"plan":"pro","n":12345678901234567890,"f":-1.5e-3,"a":[1,"x",null,true,{"b":{}}],"z":null}`, "developer", int64(1978560000000), uint8(0xff))
	f.Add("<b>&amp;</b>", "Müller \u2028", `{"k":"\u00e9","\u003c":"x"}`, "a\"b", int64(-1), uint8(0x15))
	f.Add("", "", `[]`, "", int64(0), uint8(0))
	f.Add("\xff", "tab\t", `{"n":1E+2,"m":0.5,"e":"","nested":{"z":[],"a":{}}}`, "r\\", int64(7), uint8(0xaa))
	f.Fuzz(func(t *testing.T, name, ext, meta, role string, n int64, flags uint8) {
		k := Key{Hash: name + ext, Enabled: flags&1 != 0}
		if flags&2 != 0 {
			k.Name, k.ExternalID = &name, &ext
		}
		if flags&4 != 0 {
			dec := json.NewDecoder(strings.NewReader(meta))
			dec.UseNumber()
			var m map[string]any
			if dec.Decode(&m) == nil {
				k.Meta = m
			} else {
				k.Meta = map[string]any{meta: []any{meta, json.Number(meta), nil, flags&64 != 0}}
			}
		}
		if flags&8 != 0 {
			k.Roles, k.Permissions = []string{role, name}, []string{}
			k.ExpiresMs = &n
		}
		if flags&16 != 0 {
			k.Credits = &Credits{Remaining: n}
			if flags&32 != 0 {
				k.Credits.Refill = &Refill{Interval: role, Amount: n, RefillDay: &n}
			}
		}
		if flags&128 != 0 {
			k.Ratelimits = []Ratelimit{{Name: role, Limit: n, DurationMs: -n, AutoApply: flags&64 != 0}, {Name: ext}}
		}
		got, ok := appendKeyFast(nil, k)
		if !ok {
			return
		}
		want, err := json.Marshal(k.toWire())
		if err != nil {
			t.Fatalf("the fast path encoded %s, json.Marshal refuses the key: %v", got, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("encodings differ:\nfast         %s\njson.Marshal %s", got, want)
		}
	})
}

// The keys a migration usually carries take the fast path: were it to fall
// back to json.Marshal, every key would cost its reflection again.
func TestEncodeKeyFastTakesUsualKeys(t *testing.T) {
	name, ext, day := "Acme staging key #0", "cus_acme_00000", int64(1)
	k := Key{
		Hash: "v6dAd4JqF/wmLHanQC3ZIbD35futRG7QDTqOnqEH/vc=", Name: &name, ExternalID: &ext,
		Meta:  map[string]any{"plan": "pro", "seats": json.Number("12"), "tags": []any{"a", true, nil}},
		Roles: []string{"developer"}, Permissions: []string{"documents.read"}, Enabled: true,
		Credits:    &Credits{Remaining: 100, Refill: &Refill{Interval: "monthly", Amount: 100, RefillDay: &day}},
		Ratelimits: []Ratelimit{{Name: "requests", Limit: 1000, DurationMs: 60000, AutoApply: true}},
	}
	got, ok := appendKeyFast(nil, k)
	if !ok {
		t.Fatal("a usual key fell back to json.Marshal")
	}
	want, err := json.Marshal(k.toWire())
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("encodings differ (%v):\nfast         %s\njson.Marshal %s", err, got, want)
	}
}
