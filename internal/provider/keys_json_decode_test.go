package provider

import (
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"
)

// Whatever decodeKeyFast accepts, encoding/json decodes to the same key,
// without error: the fast path never changes what a keys_file means.
func FuzzDecodeKeyFast(f *testing.F) {
	for _, seed := range []string{
		`{"hash":"v6dAd4JqF/wmLHanQC3ZIbD35futRG7QDTqOnqEH/vc=","name":"Acme key #0","externalId":"cus_acme_00000","meta":{"created_by":"genkeys","n":12345678901234567890,"f":-1.5e-3,"a":[1,"x",null,true,{"b":{}}],"z":null},"roles":["developer"],"permissions":[],"enabled":true,"ratelimits":[{"name":"requests","limit":1000,"duration":60000,"autoApply":true}]}`,
		`{"hash":"abc","expires":1978560000000,"enabled":false,"credits":{"remaining":1000,"refill":{"interval":"monthly","amount":1000,"refillDay":13}},"ratelimits":[]}`,
		` { "hash" : "abc" , "credits" : { } , "meta" : { "k" : "v" , "k" : 2 } } `,
		`{"hash":"abc","name":"a\u00e9"}`, `{"hash":"abc","name":"Müller"}`, `{"Hash":"abc"}`, `{"hash":"abc","hash":"abd"}`,
		`{"hash":null}`, `{"hash":"abc","expires":1.0}`, `{"hash":"abc","expires":1e3}`, `{"hash":"abc","expires":-0}`,
		`{"hash":"abc","expires":99999999999999999999}`, `{"hash":"abc","meta":{"n":01}}`, `{"hash":"abc","meta":{"n":-}}`,
		`{"hash":"abc","roles":["a",null]}`, `{"hash":"abc","other":1}`, `{"hash":"abc"}x`, `{}`, `{"hash":"abc",}`,
		`{"hash":"abc","ratelimits":[{"name":"r","limit":1,"limit":2}]}`, `{"hash":"abc","credits":{"refill":{"interval":"daily","x":1}}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := decodeKeyFast(raw)
		if !ok {
			return
		}
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		dec.UseNumber()
		var want keysJSONKey
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%q: the fast path accepted what encoding/json refuses: %v", raw, err)
		}
		if rest := raw[dec.InputOffset():]; strings.Trim(rest, " \t\r\n") != "" {
			t.Fatalf("%q: the fast path accepted more than one value", raw)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: decoded %+v, encoding/json %+v", raw, got, want)
		}
	})
}

// key_ids_json reads the same through the fast path as through
// encoding/json.
func FuzzDecodeKeyIDsJSON(f *testing.F) {
	for _, seed := range []string{`{}`, `{"J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk=":"key_1","abc":"key_2"}`, `{"a":"x","a":"y"}`,
		`{"a\u00e9":"key"}`, `{"a":1}`, `null`, `{"a":"b"} `, `{"a":"b"`, `[]`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		got := map[string]string{}
		gotErr := decodeKeyIDsJSON(doc, got)
		want := map[string]string{}
		wantErr := json.Unmarshal([]byte(doc), &want)
		if (gotErr == nil) != (wantErr == nil) || (gotErr == nil && !maps.Equal(got, want)) {
			t.Fatalf("%q: read %v (%v), encoding/json %v (%v)", doc, got, gotErr, want, wantErr)
		}
	})
}

// key_ids_json is written exactly as json.Marshal writes it.
func FuzzEncodeKeyIDsJSON(f *testing.F) {
	f.Add("J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk=", "key_1", "abc", "key_<2>")
	f.Add("a", "b", "a\u2028", "é")
	f.Fuzz(func(t *testing.T, h1, id1, h2, id2 string) {
		ids := map[string]string{h1: id1, h2: id2}
		got, err := encodeKeyIDsJSON(ids)
		want, wantErr := json.Marshal(ids)
		if err != nil || wantErr != nil || got != string(want) {
			t.Fatalf("%v: wrote %s (%v), json.Marshal %s (%v)", ids, got, err, want, wantErr)
		}
	})
}
