package provider

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// decodeKeyFast decodes one key object of Unkey's migrateKeys format
// without reflection, as encoding/json (DisallowUnknownFields, UseNumber)
// would decode it into a keysJSONKey: at 100,000 keys encoding/json takes
// most of a second of CPU. It handles only the plain form (field names as
// written in the format, each once, no null, no escape in strings, whole
// numbers in the numeric fields) and says ok = false for anything else,
// which encoding/json then decodes and words the errors of.
// FuzzDecodeKeyFast keeps the two equal.
func decodeKeyFast(raw string) (k keysJSONKey, ok bool) {
	d := fastDecoder{s: raw}
	var seen uint16
	ok = d.object(func(field string) bool {
		bit, ok := keyFieldBits[field]
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return d.keyField(&k, field)
	})
	return k, ok && d.end()
}

var keyFieldBits = map[string]uint16{
	"hash": 1 << 0, "name": 1 << 1, "externalId": 1 << 2, "meta": 1 << 3, "roles": 1 << 4,
	"permissions": 1 << 5, "expires": 1 << 6, "enabled": 1 << 7, "credits": 1 << 8, "ratelimits": 1 << 9,
}

func (d *fastDecoder) keyField(k *keysJSONKey, field string) bool {
	var ok bool
	switch field {
	case "hash":
		k.Hash, ok = d.str()
	case "name":
		k.Name, ok = d.strPtr()
	case "externalId":
		k.ExternalID, ok = d.strPtr()
	case "meta":
		k.Meta = map[string]any{}
		ok = d.object(func(name string) bool {
			v, ok := d.value()
			k.Meta[name] = v
			return ok
		})
	case "roles":
		k.Roles, ok = d.strings()
	case "permissions":
		k.Permissions, ok = d.strings()
	case "expires":
		k.Expires, ok = d.intPtr()
	case "enabled":
		k.Enabled, ok = d.boolPtr()
	case "credits":
		k.Credits = &keysJSONCredits{}
		ok = d.credits(k.Credits)
	case "ratelimits":
		k.Ratelimits = []keysJSONRatelimit{}
		ok = d.array(func() bool {
			var rl keysJSONRatelimit
			ok := d.ratelimit(&rl)
			k.Ratelimits = append(k.Ratelimits, rl)
			return ok
		})
	}
	return ok
}

func (d *fastDecoder) credits(c *keysJSONCredits) bool {
	var seen uint8
	return d.object(func(name string) bool {
		var ok bool
		switch once(&seen, name, "remaining", "refill") {
		case 1:
			c.Remaining, ok = d.intPtr()
		case 2:
			c.Refill = &keysJSONRefill{}
			ok = d.refill(c.Refill)
		}
		return ok
	})
}

func (d *fastDecoder) refill(r *keysJSONRefill) bool {
	var seen uint8
	return d.object(func(name string) bool {
		var ok bool
		switch once(&seen, name, "interval", "amount", "refillDay") {
		case 1:
			r.Interval, ok = d.str()
		case 2:
			r.Amount, ok = d.intPtr()
		case 3:
			r.RefillDay, ok = d.intPtr()
		}
		return ok
	})
}

func (d *fastDecoder) ratelimit(rl *keysJSONRatelimit) bool {
	var seen uint8
	return d.object(func(name string) bool {
		var ok bool
		switch once(&seen, name, "name", "limit", "duration", "autoApply") {
		case 1:
			rl.Name, ok = d.str()
		case 2:
			rl.Limit, ok = d.intPtr()
		case 3:
			rl.Duration, ok = d.intPtr()
		case 4:
			rl.AutoApply, ok = d.boolPtr()
		}
		return ok
	})
}

// once is the 1-based position of name among fields, marking it seen; 0
// for a name not among them or seen before.
func once(seen *uint8, name string, fields ...string) int {
	for i, f := range fields {
		if f == name {
			if *seen&(1<<i) != 0 {
				return 0
			}
			*seen |= 1 << i
			return i + 1
		}
	}
	return 0
}

// fastDecoder reads JSON text from s at i.
type fastDecoder struct {
	s string
	i int
}

func (d *fastDecoder) space() {
	for d.i < len(d.s) && (d.s[d.i] == ' ' || d.s[d.i] == '\t' || d.s[d.i] == '\n' || d.s[d.i] == '\r') {
		d.i++
	}
}

// end reports whether nothing but space is left.
func (d *fastDecoder) end() bool {
	d.space()
	return d.i == len(d.s)
}

// peek is the next byte after space, or 0 at the end.
func (d *fastDecoder) peek() byte {
	d.space()
	if d.i == len(d.s) {
		return 0
	}
	return d.s[d.i]
}

func (d *fastDecoder) take(c byte) bool {
	if d.peek() != c {
		return false
	}
	d.i++
	return true
}

// object reads an object, calling member with each name once the decoder
// is at its value.
func (d *fastDecoder) object(member func(name string) bool) bool {
	if !d.take('{') {
		return false
	}
	if d.take('}') {
		return true
	}
	for {
		name, ok := d.str()
		if !ok || !d.take(':') || !member(name) {
			return false
		}
		if d.take('}') {
			return true
		}
		if !d.take(',') {
			return false
		}
	}
}

func (d *fastDecoder) array(item func() bool) bool {
	if !d.take('[') {
		return false
	}
	if d.take(']') {
		return true
	}
	for {
		if !item() {
			return false
		}
		if d.take(']') {
			return true
		}
		if !d.take(',') {
			return false
		}
	}
}

// str reads a string without escapes or control characters; invalid UTF-8
// is left to encoding/json, which replaces it.
func (d *fastDecoder) str() (string, bool) {
	if !d.take('"') {
		return "", false
	}
	start := d.i
	ascii := true
	for ; d.i < len(d.s); d.i++ {
		switch c := d.s[d.i]; {
		case c == '"':
			s := d.s[start:d.i]
			d.i++
			return s, ascii || utf8.ValidString(s)
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

func (d *fastDecoder) strPtr() (*string, bool) {
	s, ok := d.str()
	return &s, ok
}

func (d *fastDecoder) strings() ([]string, bool) {
	out := []string{}
	ok := d.array(func() bool {
		s, ok := d.str()
		out = append(out, s)
		return ok
	})
	return out, ok
}

// number reads a JSON number's text.
func (d *fastDecoder) number() (string, bool) {
	d.space()
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.s) && d.s[d.i] == '-' {
		d.i++
	}
	if n := digits(); n == 0 || (n > 1 && d.s[d.i-n] == '0') {
		return "", false
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return "", false
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return "", false
		}
	}
	return d.s[start:d.i], true
}

// intPtr reads a whole number that fits an int64, as encoding/json takes
// it; anything else (1.0, 1e3) it refuses with an error of its own.
func (d *fastDecoder) intPtr() (*int64, bool) {
	text, ok := d.number()
	if !ok {
		return nil, false
	}
	n, err := strconv.ParseInt(text, 10, 64)
	return &n, err == nil
}

func (d *fastDecoder) literal(word string) bool {
	if d.peek() == 0 || len(d.s)-d.i < len(word) || d.s[d.i:d.i+len(word)] != word {
		return false
	}
	d.i += len(word)
	return true
}

func (d *fastDecoder) boolPtr() (*bool, bool) {
	switch d.peek() {
	case 't':
		b := true
		return &b, d.literal("true")
	case 'f':
		b := false
		return &b, d.literal("false")
	}
	return nil, false
}

// value reads any JSON value as encoding/json decodes it into an any with
// UseNumber.
func (d *fastDecoder) value() (any, bool) {
	switch c := d.peek(); {
	case c == '{':
		m := map[string]any{}
		ok := d.object(func(name string) bool {
			v, ok := d.value()
			m[name] = v
			return ok
		})
		return m, ok
	case c == '[':
		a := []any{}
		ok := d.array(func() bool {
			v, ok := d.value()
			a = append(a, v)
			return ok
		})
		return a, ok
	case c == '"':
		return d.str()
	case c == 't' || c == 'f':
		b, ok := d.boolPtr()
		return ok && *b, ok
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		text, ok := d.number()
		return json.Number(text), ok
	}
	return nil, false
}
