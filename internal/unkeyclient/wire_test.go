package unkeyclient

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/unkeyed/sdks/api/go/v2/models/components"
)

// The body the client encodes itself (encodeKey, the fast path or
// json.Marshal) must be exactly what the SDK would have sent, for every kind
// of setting.
func TestWireEncodingMatchesSDK(t *testing.T) {
	name, ext := "a key", "user_1"
	expires, day := int64(1893456000000), int64(31)
	cases := map[string]Key{
		"bare":           {Hash: "h1", Enabled: true},
		"disabled":       {Hash: "h2", Enabled: false},
		"empty lists":    {Hash: "h3", Roles: []string{}, Permissions: []string{}, Meta: map[string]any{}, Ratelimits: []Ratelimit{}, Enabled: true},
		"everything":     {Hash: "h4", Name: &name, ExternalID: &ext, Meta: map[string]any{"plan": "pro", "n": json.Number("12345678901234567890"), "nested": map[string]any{"a": []any{1.5, true, nil}}}, Roles: []string{"admin"}, Permissions: []string{"a.b", "c:*"}, ExpiresMs: &expires, Enabled: true, Credits: &Credits{Remaining: 0, Refill: &Refill{Interval: "monthly", Amount: 10, RefillDay: &day}}, Ratelimits: []Ratelimit{{Name: "req", Limit: 1, DurationMs: 1000}, {Name: "auto", Limit: 5, DurationMs: 60000, AutoApply: true}}},
		"daily refill":   {Hash: "h5", Credits: &Credits{Remaining: 7, Refill: &Refill{Interval: "daily", Amount: 7}}, Enabled: true},
		"credits only":   {Hash: "h6", Credits: &Credits{Remaining: 3}, Enabled: true},
		"html in a name": {Hash: "h7", Name: ptr("<b>&</b> \u2028"), Enabled: true},
	}
	for label, k := range cases {
		t.Run(label, func(t *testing.T) {
			b := batch{hashes: []string{k.Hash}}
			enc, _, err := encodeKey(k, nil)
			if err != nil {
				t.Fatal(err)
			}
			b.keys = append(b.keys, enc)
			ours, err := b.body("mig_1", "api_1")
			if err != nil {
				t.Fatal(err)
			}
			sdk, err := json.Marshal(components.V2KeysMigrateKeysRequestBody{MigrationID: "mig_1", APIID: "api_1", Keys: []components.V2KeysMigrateKeyData{k.toSDK()}})
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, ours, sdk) {
				t.Fatalf("encodings differ:\nours %s\nSDK  %s", ours, sdk)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	for _, p := range []struct {
		raw []byte
		out *any
	}{{a, &x}, {b, &y}} {
		dec := json.NewDecoder(bytes.NewReader(p.raw))
		dec.UseNumber()
		if err := dec.Decode(p.out); err != nil {
			t.Fatalf("invalid JSON %s: %v", p.raw, err)
		}
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return bytes.Equal(xs, ys)
}
