package provider

import (
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// stateMsgPack is a resource state as Terraform stores it (JSON) encoded
// in msgpack as the framework would encode it for Terraform after reading
// it with typ, in one pass over the bytes and without building the value.
// ok is false for anything it does not read exactly as the framework
// does, which the framework then reads itself: an attribute typ lacks, a
// key given twice, a number that is not a whole int64, a string given as
// a number or a bool, a type other than objects, maps, lists, sets,
// strings, numbers and bools, JSON that is not valid, or anything after
// the object.
func stateMsgPack(state []byte, typ tftypes.Object) (packed []byte, ok bool) {
	// msgpack is seldom longer than JSON: a little room spares a copy.
	t := transcoder{in: state, out: make([]byte, 0, len(state)+len(state)/16+64)}
	t.space()
	if t.peek() != '{' || !t.value(typ) {
		return nil, false
	}
	t.space()
	return t.out, t.pos == len(t.in)
}

// transcoder reads JSON from in at pos and appends its msgpack to out.
type transcoder struct {
	in  []byte
	pos int
	out []byte
}

func (t *transcoder) peek() byte {
	if t.pos < len(t.in) {
		return t.in[t.pos]
	}
	return 0
}

func (t *transcoder) space() {
	for t.pos < len(t.in) {
		switch t.in[t.pos] {
		case ' ', '\t', '\n', '\r':
			t.pos++
		default:
			return
		}
	}
}

// literal consumes word (null, true, false) if it comes next.
func (t *transcoder) literal(word string) bool {
	if len(t.in)-t.pos < len(word) || string(t.in[t.pos:t.pos+len(word)]) != word {
		return false
	}
	t.pos += len(word)
	return true
}

// value transcodes one value of typ, null included.
func (t *transcoder) value(typ tftypes.Type) bool {
	t.space()
	if t.literal("null") {
		t.out = append(t.out, 0xc0)
		return true
	}
	switch {
	case typ.Is(tftypes.String):
		_, ok := t.str()
		return ok
	case typ.Is(tftypes.Number):
		return t.integer()
	case typ.Is(tftypes.Bool):
		return t.boolean()
	case typ.Is(tftypes.List{}):
		return t.array(typ.(tftypes.List).ElementType) //nolint:forcetypeassert // Is says it is
	case typ.Is(tftypes.Set{}):
		return t.array(typ.(tftypes.Set).ElementType) //nolint:forcetypeassert // Is says it is
	case typ.Is(tftypes.Map{}):
		return t.mapOf(typ.(tftypes.Map).ElementType) //nolint:forcetypeassert // Is says it is
	case typ.Is(tftypes.Object{}):
		return t.object(typ.(tftypes.Object).AttributeTypes) //nolint:forcetypeassert // Is says it is
	}
	return false
}

func (t *transcoder) boolean() bool {
	switch {
	case t.literal("true"):
		t.out = append(t.out, 0xc3)
	case t.literal("false"):
		t.out = append(t.out, 0xc2)
	default:
		return false
	}
	return true
}

// integer transcodes a JSON number without fraction or exponent that fits
// an int64; the framework reads anything else through big.Float, which
// is not worth copying for batch_size.
func (t *transcoder) integer() bool {
	start := t.pos
	if t.peek() == '-' {
		t.pos++
	}
	digits := t.pos
	for t.pos < len(t.in) && t.in[t.pos] >= '0' && t.in[t.pos] <= '9' {
		t.pos++
	}
	if t.pos == digits || (t.in[digits] == '0' && t.pos-digits > 1) {
		return false
	}
	if c := t.peek(); c == '.' || c == 'e' || c == 'E' {
		return false
	}
	n, err := strconv.ParseInt(string(t.in[start:t.pos]), 10, 64)
	if err != nil {
		return false
	}
	t.out = append(t.out, 0xd3)
	t.out = binary.BigEndian.AppendUint64(t.out, uint64(n)) //nolint:gosec // msgpack's int64 is the two's complement
	return true
}

// array transcodes a JSON array (a list or a set) of elem.
func (t *transcoder) array(elem tftypes.Type) bool {
	if t.peek() != '[' {
		return false
	}
	t.pos++
	head := t.openHeader(0xdd)
	n := 0
	t.space()
	if t.peek() == ']' {
		t.pos++
		return t.closeHeader(head, n)
	}
	for {
		if !t.value(elem) {
			return false
		}
		n++
		t.space()
		switch t.peek() {
		case ',':
			t.pos++
		case ']':
			t.pos++
			return t.closeHeader(head, n)
		default:
			return false
		}
	}
}

// mapOf transcodes a JSON object as a map of elem; a key given twice
// declines (the framework keeps the last).
func (t *transcoder) mapOf(elem tftypes.Type) bool {
	seen := map[string]bool{}
	return t.members(func(key []byte) bool {
		if seen[string(key)] {
			return false
		}
		seen[string(key)] = true
		return t.value(elem)
	})
}

// object transcodes a JSON object as an object of attrs, every attribute
// it lacks null, as the framework reads a state of an older schema.
func (t *transcoder) object(attrs map[string]tftypes.Type) bool {
	seen := make(map[string]bool, len(attrs))
	at := len(t.out)
	if !t.members(func(key []byte) bool {
		name := string(key)
		typ, known := attrs[name]
		if !known || seen[name] {
			return false
		}
		seen[name] = true
		return t.value(typ)
	}) {
		return false
	}
	var missing []string
	for name := range attrs {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	for _, name := range missing {
		t.putStr(name)
		t.out = append(t.out, 0xc0)
	}
	binary.BigEndian.PutUint32(t.out[at+1:], uint32(len(attrs))) //nolint:gosec // a schema's attribute count
	return true
}

// members reads a JSON object, writing each key and calling member for it
// once its ':' is read; it writes a map header whose count the caller may
// correct.
func (t *transcoder) members(member func(key []byte) bool) bool {
	if t.peek() != '{' {
		return false
	}
	t.pos++
	head := t.openHeader(0xdf)
	n := 0
	t.space()
	if t.peek() == '}' {
		t.pos++
		return t.closeHeader(head, n)
	}
	for {
		t.space()
		key, ok := t.str()
		if !ok {
			return false
		}
		t.space()
		if t.peek() != ':' {
			return false
		}
		t.pos++
		if !member(key) {
			return false
		}
		n++
		t.space()
		switch t.peek() {
		case ',':
			t.pos++
		case '}':
			t.pos++
			return t.closeHeader(head, n)
		default:
			return false
		}
	}
}

// openHeader writes a 32-bit map or array header (code) whose count
// closeHeader fills in; the decoders on both sides take any header width.
func (t *transcoder) openHeader(code byte) int {
	t.out = append(t.out, code, 0, 0, 0, 0)
	return len(t.out) - 5
}

func (t *transcoder) closeHeader(at, n int) bool {
	binary.BigEndian.PutUint32(t.out[at+1:], uint32(n)) //nolint:gosec // bounded by the input's length
	return true
}

// str reads a JSON string as encoding/json does (which the framework and
// Terraform read states with) and writes it as a msgpack str, unescaping
// straight into out: the common escapes here, and a string with a \u
// escape or bytes that are not UTF-8 through encoding/json itself. It
// returns the string's bytes in out, valid until out grows.
func (t *transcoder) str() ([]byte, bool) {
	if t.peek() != '"' {
		return nil, false
	}
	start := t.pos
	t.pos++
	head := len(t.out)
	t.out = append(t.out, 0xdb, 0, 0, 0, 0) // the widest header, until the length is known
	from := t.pos                           // start of the bytes not yet copied to out
	ascii := true
	for t.pos < len(t.in) {
		c := t.in[t.pos]
		switch {
		case c == '"':
			t.out = append(t.out, t.in[from:t.pos]...)
			t.pos++
			if !ascii && !utf8.Valid(t.out[head+5:]) {
				t.out = t.out[:head]
				return t.viaEncodingJSON(start)
			}
			return t.sealStr(head), true
		case c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
			t.pos++
		case c != '\\':
			t.pos++
		default:
			if t.pos+1 >= len(t.in) {
				return nil, false
			}
			unescaped, ok := simpleEscape(t.in[t.pos+1])
			if !ok {
				if t.in[t.pos+1] == 'u' {
					t.out = t.out[:head]
					return t.viaEncodingJSON(start)
				}
				return nil, false
			}
			t.out = append(append(t.out, t.in[from:t.pos]...), unescaped)
			t.pos += 2
			from = t.pos
		}
	}
	return nil, false
}

// sealStr writes the header of the str whose bytes follow the 5 bytes
// reserved at head, narrowing it as msgpack's shortest form for the length,
// and returns the str's bytes.
func (t *transcoder) sealStr(head int) []byte {
	n := len(t.out) - head - 5
	width := 5
	switch {
	case n < 32:
		t.out[head], width = 0xa0|byte(n), 1 //nolint:gosec // n < 32
	case n <= 0xff:
		t.out[head], t.out[head+1], width = 0xd9, byte(n), 2
	case n <= 0xffff:
		t.out[head], width = 0xda, 3
		binary.BigEndian.PutUint16(t.out[head+1:], uint16(n))
	default:
		binary.BigEndian.PutUint32(t.out[head+1:], uint32(n)) //nolint:gosec // a state is far below 4 GiB
	}
	if width < 5 {
		copy(t.out[head+width:], t.out[head+5:])
		t.out = t.out[:head+width+n]
	}
	return t.out[head+width:]
}

func simpleEscape(c byte) (byte, bool) {
	switch c {
	case '"', '\\', '/':
		return c, true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	}
	return 0, false
}

// viaEncodingJSON reads the string starting at start with encoding/json.
func (t *transcoder) viaEncodingJSON(start int) ([]byte, bool) {
	end, ok := stringEnd(t.in, start)
	if !ok {
		return nil, false
	}
	var s string
	if json.Unmarshal(t.in[start:end], &s) != nil {
		return nil, false
	}
	t.pos = end
	t.putStr(s)
	return t.out[len(t.out)-len(s):], true
}

// stringEnd is the index just past the JSON string starting at start.
func stringEnd(b []byte, start int) (int, bool) {
	for i := start + 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// putStr writes s as a msgpack str.
func (t *transcoder) putStr(s string) {
	switch n := len(s); {
	case n < 32:
		t.out = append(t.out, 0xa0|byte(n))
	case n <= 0xff:
		t.out = append(t.out, 0xd9, byte(n))
	case n <= 0xffff:
		t.out = append(t.out, 0xda)
		t.out = binary.BigEndian.AppendUint16(t.out, uint16(n))
	default:
		t.out = append(t.out, 0xdb)
		t.out = binary.BigEndian.AppendUint32(t.out, uint32(n)) //nolint:gosec // a state is far below 4 GiB
	}
	t.out = append(t.out, s...)
}
