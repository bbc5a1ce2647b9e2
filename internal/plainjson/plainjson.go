// Package plainjson reads JSON in its plain form, as encoding/json writes
// it, without reflection: objects, arrays, strings without escapes, numbers,
// true, false and null. Each method reports ok = false for anything else
// (an escape, invalid UTF-8, a control character, a malformed number), and
// the caller then hands the whole document to encoding/json, whose result
// the plain reading equals wherever it says ok (the callers' fuzz tests
// check that). At 100,000 keys encoding/json's reflection took most of a
// second per document. Verbatim is the writers' half: whether json.Marshal
// writes a string as it is.
package plainjson

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Decoder reads JSON text from s at i.
type Decoder struct {
	s string
	i int
}

// New is a decoder of s.
func New(s string) *Decoder { return &Decoder{s: s} }

func (d *Decoder) space() {
	for d.i < len(d.s) && (d.s[d.i] == ' ' || d.s[d.i] == '\t' || d.s[d.i] == '\n' || d.s[d.i] == '\r') {
		d.i++
	}
}

// End reports whether nothing but space is left.
func (d *Decoder) End() bool {
	d.space()
	return d.i == len(d.s)
}

// Peek is the next byte after space, or 0 at the end.
func (d *Decoder) Peek() byte {
	d.space()
	if d.i == len(d.s) {
		return 0
	}
	return d.s[d.i]
}

// Take reads the byte c, after space.
func (d *Decoder) Take(c byte) bool {
	if d.Peek() != c {
		return false
	}
	d.i++
	return true
}

// Object reads an object, calling member with each name once the decoder
// is at its value.
func (d *Decoder) Object(member func(name string) bool) bool {
	if !d.Take('{') {
		return false
	}
	if d.Take('}') {
		return true
	}
	for {
		name, ok := d.Str()
		if !ok || !d.Take(':') || !member(name) {
			return false
		}
		if d.Take('}') {
			return true
		}
		if !d.Take(',') {
			return false
		}
	}
}

// Array reads an array, calling item once the decoder is at each value.
func (d *Decoder) Array(item func() bool) bool {
	if !d.Take('[') {
		return false
	}
	if d.Take(']') {
		return true
	}
	for {
		if !item() {
			return false
		}
		if d.Take(']') {
			return true
		}
		if !d.Take(',') {
			return false
		}
	}
}

// Str reads a string without escapes or control characters; invalid UTF-8
// is left to encoding/json, which replaces it.
func (d *Decoder) Str() (string, bool) {
	if !d.Take('"') {
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

// StrPtr reads a string, as encoding/json into a *string.
func (d *Decoder) StrPtr() (*string, bool) {
	s, ok := d.Str()
	return &s, ok
}

// Strings reads an array of strings; an empty one is not nil, as with
// encoding/json.
func (d *Decoder) Strings() ([]string, bool) {
	out := []string{}
	ok := d.Array(func() bool {
		s, ok := d.Str()
		out = append(out, s)
		return ok
	})
	return out, ok
}

// Number reads a JSON number's text.
func (d *Decoder) Number() (string, bool) {
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

// IntPtr reads a whole number that fits an int64, as encoding/json takes
// it; anything else (1.0, 1e3) it refuses with an error of its own.
func (d *Decoder) IntPtr() (*int64, bool) {
	text, ok := d.Number()
	if !ok {
		return nil, false
	}
	n, err := strconv.ParseInt(text, 10, 64)
	return &n, err == nil
}

// Null reads null.
func (d *Decoder) Null() bool { return d.literal("null") }

func (d *Decoder) literal(word string) bool {
	if d.Peek() == 0 || len(d.s)-d.i < len(word) || d.s[d.i:d.i+len(word)] != word {
		return false
	}
	d.i += len(word)
	return true
}

// BoolPtr reads true or false.
func (d *Decoder) BoolPtr() (*bool, bool) {
	switch d.Peek() {
	case 't':
		b := true
		return &b, d.literal("true")
	case 'f':
		b := false
		return &b, d.literal("false")
	}
	return nil, false
}

// Value reads any JSON value as encoding/json decodes it into an any with
// UseNumber.
func (d *Decoder) Value() (any, bool) {
	switch c := d.Peek(); {
	case c == '{':
		m := map[string]any{}
		ok := d.Object(func(name string) bool {
			v, ok := d.Value()
			m[name] = v
			return ok
		})
		return m, ok
	case c == '[':
		a := []any{}
		ok := d.Array(func() bool {
			v, ok := d.Value()
			a = append(a, v)
			return ok
		})
		return a, ok
	case c == '"':
		return d.Str()
	case c == 't' || c == 'f':
		b, ok := d.BoolPtr()
		return ok && *b, ok
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		text, ok := d.Number()
		return json.Number(text), ok
	}
	return nil, false
}

// Once is the 1-based position of name among an object's fields, marking it
// in seen (one bit per field, at most sixteen); 0 for a name not among them
// or seen before, which a plain reading refuses (encoding/json takes the
// last of a repeated member).
func Once(seen *uint16, name string, fields ...string) int {
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

// Verbatim reports whether json.Marshal writes s as it is, between
// quotes: valid UTF-8 with nothing it escapes (control characters, " and
// \, the HTML characters < > &, U+2028 and U+2029).
func Verbatim(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !plainASCII[c] {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}

var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()
