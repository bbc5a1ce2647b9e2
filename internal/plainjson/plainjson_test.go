package plainjson

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Whatever Value reads, encoding/json (with UseNumber) reads the same, and
// accepts.
func FuzzValueAgreesWithEncodingJSON(f *testing.F) {
	for _, seed := range []string{
		`{"a":[1,-2.5e+3,"x",true,false,null,{}],"b":{"c":[]}}`, `"Müller"`, `"a\u00e9"`, `01`, `-`, `1.`, `1e`, `[1,]`,
		`{"a":1,"a":2}`, ` [ ] `, `"\x01"`, `tru`, `nul`, `{"a" 1}`, "\"\xff\"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		d := New(doc)
		got, ok := d.Value()
		if !ok || !d.End() {
			return
		}
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%q: read %v, which encoding/json refuses: %v", doc, got, err)
		}
		if rest := doc[dec.InputOffset():]; strings.Trim(rest, " \t\r\n") != "" {
			t.Fatalf("%q: read as one value, encoding/json leaves %q", doc, rest)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: read %#v, encoding/json %#v", doc, got, want)
		}
	})
}

// Once numbers the fields it is given and refuses a repeat or a stranger.
func TestOnceRefusesRepeatsAndStrangers(t *testing.T) {
	var seen uint16
	for _, c := range []struct {
		name string
		want int
	}{{"b", 2}, {"a", 1}, {"b", 0}, {"c", 0}, {"a", 0}} {
		if got := Once(&seen, c.name, "a", "b"); got != c.want {
			t.Errorf("Once(%q) = %d, want %d", c.name, got, c.want)
		}
	}
	if seen != 3 {
		t.Errorf("seen = %b, want both fields marked", seen)
	}
}
