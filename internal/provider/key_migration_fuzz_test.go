package provider

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// A hash checkHash accepts is one Unkey can verify under that format.
func FuzzCheckHash(f *testing.F) {
	for _, seed := range []string{"J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk=", "27dc27d1f598e9336de1ce8fa7c9d07027514210c5315ccdc2be95b002a4a924", "", "===", "J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, hash string) {
		if checkHash(hash, hashFormatSHA256Base64) == "" {
			raw, err := base64.StdEncoding.DecodeString(hash)
			if err != nil || len(raw) != 32 || base64.StdEncoding.EncodeToString(raw) != hash {
				t.Fatalf("sha256_base64 accepted %q", hash)
			}
		}
		if checkHash(hash, hashFormatSHA256Hex) == "" {
			raw, err := hex.DecodeString(hash)
			if err != nil || len(raw) != 32 {
				t.Fatalf("sha256_hex accepted %q", hash)
			}
		}
		if checkHash(hash, "") != "" {
			t.Fatalf("no hash_format refused %q", hash)
		}
	})
}

func validates(v validator.String, value string) bool {
	resp := &validator.StringResponse{}
	v.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("x"), ConfigValue: types.StringValue(value)}, resp)
	return !resp.Diagnostics.HasError()
}

// Whatever the validators accept converts to Unkey's terms without error and
// keeps its meaning: the same instant, the same window, the same JSON.
func FuzzKeySettingsConversion(f *testing.F) {
	f.Add(`{"plan":"pro","n":12345678901234567890}`, "2030-01-01T00:00:00Z", "1m")
	f.Add(`{}`, "2099-12-31T23:59:59.999+02:00", "1h30m0.5s")
	f.Add(`[1]`, "1970-01-01T00:00:00Z", "500ms")
	f.Add(`{"a":{"b":[null,true,1.5e300]}}`, "2024-02-29T12:00:00-11:30", "24h")
	f.Fuzz(func(t *testing.T, meta, expires, duration string) {
		if !validates(jsonObjectValidator{maxProperties: 100}, meta) || !validates(expiresValidator{}, expires) || !validates(ratelimitDurationValidator{}, duration) {
			return
		}
		if !json.Valid([]byte(meta)) {
			return // the jsontypes type refuses it before any validator
		}
		k := keySettingsModel{
			Meta:       jsontypes.NewNormalizedValue(meta),
			Expires:    types.StringValue(expires),
			Ratelimits: []ratelimitModel{{Name: types.StringValue("requests"), Limit: types.Int64Value(1), Duration: types.StringValue(duration)}},
		}
		key, err := k.toClientKey("hash")
		if err != nil {
			t.Fatalf("accepted settings did not convert: %v", err)
		}
		want, _ := time.Parse(time.RFC3339, expires)
		if key.ExpiresMs == nil || *key.ExpiresMs != want.UnixMilli() || *key.ExpiresMs < 0 || *key.ExpiresMs >= 4102444800000 {
			t.Fatalf("expires %q became %v", expires, key.ExpiresMs)
		}
		d, _ := time.ParseDuration(duration)
		if key.Ratelimits[0].DurationMs != d.Milliseconds() || key.Ratelimits[0].DurationMs < 1000 || time.Duration(key.Ratelimits[0].DurationMs)*time.Millisecond != d {
			t.Fatalf("duration %q became %d ms", duration, key.Ratelimits[0].DurationMs)
		}
		var original, sent any
		_ = json.Unmarshal([]byte(meta), &original)
		encoded, err := json.Marshal(key.Meta)
		if err != nil {
			t.Fatalf("meta does not encode: %v", err)
		}
		_ = json.Unmarshal(encoded, &sent)
		if !reflect.DeepEqual(original, sent) {
			t.Fatalf("meta %s was sent as %s", meta, encoded)
		}
	})
}
