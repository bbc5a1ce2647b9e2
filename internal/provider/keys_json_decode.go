package provider

import "github.com/unkeyed/terraform-provider-unkey/internal/plainjson"

// decodeKeyFast decodes one key object of Unkey's migrateKeys format
// without reflection, as encoding/json (DisallowUnknownFields, UseNumber)
// would decode it into a keysJSONKey: at 100,000 keys encoding/json takes
// most of a second of CPU. It handles only the plain form (field names as
// written in the format, each once, no null, no escape in strings, whole
// numbers in the numeric fields) and says ok = false for anything else,
// which encoding/json then decodes and words the errors of.
// FuzzDecodeKeyFast keeps the two equal.
func decodeKeyFast(raw string) (k keysJSONKey, ok bool) {
	d := plainjson.New(raw)
	var seen uint16
	ok = d.Object(func(field string) bool {
		return plainjson.Once(&seen, field, keyFields...) != 0 && decodeKeyField(d, &k, field)
	})
	return k, ok && d.End()
}

// keyFields are the fields of a key in Unkey's migrateKeys format.
var keyFields = []string{"hash", "name", "externalId", "meta", "roles", "permissions", "expires", "enabled", "credits", "ratelimits"}

func decodeKeyField(d *plainjson.Decoder, k *keysJSONKey, field string) bool {
	var ok bool
	switch field {
	case "hash":
		k.Hash, ok = d.Str()
	case "name":
		k.Name, ok = d.StrPtr()
	case "externalId":
		k.ExternalID, ok = d.StrPtr()
	case "meta":
		k.Meta = map[string]any{}
		ok = d.Object(func(name string) bool {
			v, ok := d.Value()
			k.Meta[name] = v
			return ok
		})
	case "roles":
		k.Roles, ok = d.Strings()
	case "permissions":
		k.Permissions, ok = d.Strings()
	case "expires":
		k.Expires, ok = d.IntPtr()
	case "enabled":
		k.Enabled, ok = d.BoolPtr()
	case "credits":
		k.Credits = &keysJSONCredits{}
		ok = decodeCredits(d, k.Credits)
	case "ratelimits":
		k.Ratelimits = []keysJSONRatelimit{}
		ok = d.Array(func() bool {
			var rl keysJSONRatelimit
			ok := decodeRatelimit(d, &rl)
			k.Ratelimits = append(k.Ratelimits, rl)
			return ok
		})
	}
	return ok
}

func decodeCredits(d *plainjson.Decoder, c *keysJSONCredits) bool {
	var seen uint16
	return d.Object(func(name string) bool {
		var ok bool
		switch plainjson.Once(&seen, name, "remaining", "refill") {
		case 1:
			c.Remaining, ok = d.IntPtr()
		case 2:
			c.Refill = &keysJSONRefill{}
			ok = decodeRefill(d, c.Refill)
		}
		return ok
	})
}

func decodeRefill(d *plainjson.Decoder, r *keysJSONRefill) bool {
	var seen uint16
	return d.Object(func(name string) bool {
		var ok bool
		switch plainjson.Once(&seen, name, "interval", "amount", "refillDay") {
		case 1:
			r.Interval, ok = d.Str()
		case 2:
			r.Amount, ok = d.IntPtr()
		case 3:
			r.RefillDay, ok = d.IntPtr()
		}
		return ok
	})
}

func decodeRatelimit(d *plainjson.Decoder, rl *keysJSONRatelimit) bool {
	var seen uint16
	return d.Object(func(name string) bool {
		var ok bool
		switch plainjson.Once(&seen, name, "name", "limit", "duration", "autoApply") {
		case 1:
			rl.Name, ok = d.Str()
		case 2:
			rl.Limit, ok = d.IntPtr()
		case 3:
			rl.Duration, ok = d.IntPtr()
		case 4:
			rl.AutoApply, ok = d.BoolPtr()
		}
		return ok
	})
}
