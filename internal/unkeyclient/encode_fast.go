package unkeyclient

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/unkeyed/terraform-provider-unkey/internal/plainjson"
)

// appendKeyFast appends k as json.Marshal(k.toWire()) writes it, without
// reflection: at 100,000 keys json.Marshal takes over half a second of CPU
// before the first request can leave. It handles the plain form only
// (strings json.Marshal writes as they are; meta of strings, json.Numbers,
// booleans, nulls, arrays and objects) and says ok = false for anything
// else, which json.Marshal then encodes. FuzzEncodeKeyFast keeps the two
// equal.
func appendKeyFast(b []byte, k Key) (_ []byte, ok bool) {
	if !plainjson.Verbatim(k.Hash) {
		return b, false
	}
	b = append(b, `{"hash":"`...)
	b = append(b, k.Hash...)
	b = append(b, '"')
	if b, ok = appendOptString(b, `,"name":`, k.Name); !ok {
		return b, false
	}
	if b, ok = appendOptString(b, `,"externalId":`, k.ExternalID); !ok {
		return b, false
	}
	if k.Meta != nil {
		if b, ok = appendMetaValue(append(b, `,"meta":`...), k.Meta); !ok {
			return b, false
		}
	}
	if b, ok = appendStringList(b, `,"roles":`, k.Roles); !ok {
		return b, false
	}
	if b, ok = appendStringList(b, `,"permissions":`, k.Permissions); !ok {
		return b, false
	}
	if k.ExpiresMs != nil {
		b = strconv.AppendInt(append(b, `,"expires":`...), *k.ExpiresMs, 10)
	}
	b = strconv.AppendBool(append(b, `,"enabled":`...), k.Enabled)
	if c := k.Credits; c != nil {
		b = strconv.AppendInt(append(b, `,"credits":{"remaining":`...), c.Remaining, 10)
		if r := c.Refill; r != nil {
			if !plainjson.Verbatim(r.Interval) {
				return b, false
			}
			b = append(append(append(b, `,"refill":{"interval":"`...), r.Interval...), '"')
			b = strconv.AppendInt(append(b, `,"amount":`...), r.Amount, 10)
			if r.RefillDay != nil {
				b = strconv.AppendInt(append(b, `,"refillDay":`...), *r.RefillDay, 10)
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	if k.Ratelimits != nil {
		b = append(b, `,"ratelimits":[`...)
		for i, rl := range k.Ratelimits {
			if !plainjson.Verbatim(rl.Name) {
				return b, false
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = append(append(append(b, `{"name":"`...), rl.Name...), '"')
			b = strconv.AppendInt(append(b, `,"limit":`...), rl.Limit, 10)
			b = strconv.AppendInt(append(b, `,"duration":`...), rl.DurationMs, 10)
			b = strconv.AppendBool(append(b, `,"autoApply":`...), rl.AutoApply)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), true
}

func appendOptString(b []byte, field string, s *string) ([]byte, bool) {
	if s == nil {
		return b, true
	}
	if !plainjson.Verbatim(*s) {
		return b, false
	}
	return append(append(append(append(b, field...), '"'), *s...), '"'), true
}

func appendStringList(b []byte, field string, list []string) ([]byte, bool) {
	if list == nil {
		return b, true
	}
	b = append(append(b, field...), '[')
	for i, s := range list {
		if !plainjson.Verbatim(s) {
			return b, false
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), s...), '"')
	}
	return append(b, ']'), true
}

// appendMetaValue writes a value decoded from JSON (with UseNumber) as
// json.Marshal does: object keys sorted.
func appendMetaValue(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return append(b, "null"...), true
		}
		keys := make([]string, 0, len(v))
		for name := range v {
			if !plainjson.Verbatim(name) {
				return b, false
			}
			keys = append(keys, name)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, name := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(append(append(b, '"'), name...), `":`...)
			var ok bool
			if b, ok = appendMetaValue(b, v[name]); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	case []any:
		if v == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendMetaValue(b, e); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case string:
		if !plainjson.Verbatim(v) {
			return b, false
		}
		return append(append(append(b, '"'), v...), '"'), true
	case json.Number:
		if !validNumber(string(v)) {
			return b, false
		}
		return append(b, v...), true
	case bool:
		return strconv.AppendBool(b, v), true
	case nil:
		return append(b, "null"...), true
	default:
		return b, false
	}
}

// validNumber reports whether s is a JSON number, as json.Marshal requires
// of a json.Number (it writes an empty one as 0, which is left to it).
func validNumber(s string) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}
