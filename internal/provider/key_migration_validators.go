package provider

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// checkHash explains why hash does not fit format, or returns "".
func checkHash(hash, format string) string {
	switch format {
	case hashFormatSHA256Base64:
		if len(hash) == 64 && isHex(hash) {
			return "is 64 hex characters, but hash_format is sha256_base64: Unkey's sha256 migrations verify only the standard base64 " +
				"encoding of the SHA-256 digest, so this key would never verify. Re-encode it with provider::unkey::sha256_hex_to_base64 " +
				"(or base64 of the raw digest bytes), or set hash_format = \"sha256_hex\" if your migration uses a hex algorithm"
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(hash)
		// The decoder skips CR and LF; only the canonical encoding is what
		// Unkey computes and looks up.
		if err != nil || base64.StdEncoding.EncodeToString(raw) != hash {
			return "is not standard base64 (with = padding, not URL-safe): hash_format sha256_base64 expects the base64 SHA-256 of the whole key, 44 characters ending in '='"
		}
		if len(raw) != 32 {
			return fmt.Sprintf("decodes to %d bytes, but a SHA-256 digest has 32: hash_format sha256_base64 expects the base64 SHA-256 of the whole key", len(raw))
		}
	case hashFormatSHA256Hex:
		if len(hash) != 64 || !isHex(hash) {
			return "is not 64 hex characters: hash_format sha256_hex expects the hex SHA-256 digest"
		}
	}
	return ""
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// jsonObjectValidator accepts a JSON object of at most maxProperties members.
type jsonObjectValidator struct{ maxProperties int }

func (v jsonObjectValidator) Description(context.Context) string {
	return fmt.Sprintf("must be a JSON object with at most %d properties", v.maxProperties)
}
func (v jsonObjectValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v jsonObjectValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(req.ConfigValue.ValueString()), &obj); err != nil || obj == nil {
		resp.Diagnostics.AddAttributeError(req.Path, "meta must be a JSON object",
			req.Path.String()+": Unkey stores key metadata as a JSON object. Write it with jsonencode({ ... }), for example jsonencode({ plan = \"pro\" }).")
		return
	}
	if len(obj) > v.maxProperties {
		resp.Diagnostics.AddAttributeError(req.Path, "meta has too many properties",
			fmt.Sprintf("%s: Unkey accepts at most %d top-level properties in meta; this has %d. Nest related values in objects.", req.Path, v.maxProperties, len(obj)))
	}
}

// maxExpires is Unkey's upper bound for expires: 2100-01-01T00:00:00Z.
var maxExpires = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

type expiresValidator struct{}

func (expiresValidator) Description(context.Context) string {
	return "must be an RFC 3339 timestamp between 1970-01-01 and 2100-01-01"
}
func (v expiresValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (expiresValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	t, err := time.Parse(time.RFC3339, req.ConfigValue.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "expires is not an RFC 3339 timestamp",
			fmt.Sprintf("%s: got %q; write a timestamp such as \"2030-01-01T00:00:00Z\", or use timeadd(timestamp(), \"8760h\") style expressions.", req.Path, req.ConfigValue.ValueString()))
		return
	}
	if t.Before(time.Unix(0, 0)) || !t.Before(maxExpires) {
		resp.Diagnostics.AddAttributeError(req.Path, "expires out of range",
			fmt.Sprintf("%s: Unkey accepts expiry times from 1970-01-01 up to, not including, 2100-01-01; got %s. Leave expires unset for a key that never expires.", req.Path, req.ConfigValue.ValueString()))
	}
}

type ratelimitDurationValidator struct{}

func (ratelimitDurationValidator) Description(context.Context) string {
	return "must be a duration of at least 1s in whole milliseconds"
}
func (v ratelimitDurationValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (ratelimitDurationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Rate limit duration is not a duration",
			fmt.Sprintf("%s: got %q; write a Go duration such as \"1s\", \"1m\", \"1h30m\" or \"24h\".", req.Path, req.ConfigValue.ValueString()))
		return
	}
	switch {
	case d < time.Second:
		resp.Diagnostics.AddAttributeError(req.Path, "Rate limit duration too short",
			fmt.Sprintf("%s: Unkey's shortest rate limit window is 1s; got %s. Use \"1s\" or longer.", req.Path, d))
	case d%time.Millisecond != 0:
		resp.Diagnostics.AddAttributeError(req.Path, "Rate limit duration too precise",
			fmt.Sprintf("%s: Unkey counts rate limit windows in whole milliseconds; got %s. Round it to a whole number of milliseconds.", req.Path, d))
	}
}

// refillDayValidator: refill_day is required for monthly refills and
// meaningless (so refused) for daily ones, as in Unkey.
type refillDayValidator struct{}

func (refillDayValidator) Description(context.Context) string {
	return "refill_day is required when interval is monthly and not allowed when it is daily"
}
func (v refillDayValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (refillDayValidator) ValidateObject(_ context.Context, req validator.ObjectRequest, resp *validator.ObjectResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	attrs := req.ConfigValue.Attributes()
	interval, _ := attrs["interval"].(types.String)
	day, _ := attrs["refill_day"].(types.Int64)
	if interval.IsUnknown() || day.IsUnknown() {
		return
	}
	switch {
	case interval.ValueString() == "monthly" && day.IsNull():
		resp.Diagnostics.AddAttributeError(req.Path.AtName("refill_day"), "Missing refill_day",
			req.Path.AtName("refill_day").String()+": a monthly refill needs refill_day: the day of the month (1–31) on which the credits refill.")
	case interval.ValueString() == "daily" && !day.IsNull():
		resp.Diagnostics.AddAttributeError(req.Path.AtName("refill_day"), "refill_day not allowed for a daily refill",
			req.Path.AtName("refill_day").String()+": remove refill_day; a daily refill happens every day. Use interval = \"monthly\" to refill on a given day.")
	}
}

type uniqueRatelimitNamesValidator struct{}

func (uniqueRatelimitNamesValidator) Description(context.Context) string {
	return "rate limit names must be unique"
}
func (v uniqueRatelimitNamesValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (uniqueRatelimitNamesValidator) ValidateList(_ context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	for i, name := range repeatedRatelimitNames(req.ConfigValue.Elements()) {
		at := req.Path.AtListIndex(i).AtName("name")
		resp.Diagnostics.AddAttributeError(at, "Duplicate rate limit name",
			fmt.Sprintf("%s: the rate limit name %q is used twice in this key; verifications select rate limits by name, so each must be unique.", at, name))
	}
}

// repeatedRatelimitNames maps the index of every rate limit whose known name
// an earlier one already has to that name.
func repeatedRatelimitNames(elems []attr.Value) map[int]string {
	repeated := map[int]string{}
	seen := map[string]bool{}
	for i, elem := range elems {
		obj, ok := elem.(basetypes.ObjectValue)
		if !ok || obj.IsNull() || obj.IsUnknown() {
			continue
		}
		name, _ := obj.Attributes()["name"].(types.String)
		if name.IsNull() || name.IsUnknown() {
			continue
		}
		if seen[name.ValueString()] {
			repeated[i] = name.ValueString()
		}
		seen[name.ValueString()] = true
	}
	return repeated
}
