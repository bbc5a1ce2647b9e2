package provider

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Whatever keys_json holds, the parser never panics, and what it accepts
// survives being written back into state unchanged.
func FuzzParseKeysJSON(f *testing.F) {
	for _, seed := range []string{
		`[{"hash": "J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk=", "name": "a", "meta": {"n": 12345678901234567890}}]`,
		`[{"hash": "abc", "credits": {"remaining": 1, "refill": {"interval": "monthly", "amount": 2, "refillDay": 31}}}]`,
		`[{"hash": "abc", "ratelimits": [{"name": "req", "limit": 1, "duration": 1000, "autoApply": true}]}, {"hash": "abd", "roles": ["x"]}]`,
		`[{"hash": "abc"}, {"hash": "abc"}]`,
		`{"hash": "abc"}`, `[]`, `[null]`, `[{"hash": "abc", "expires": -1}]`, `[{"hash": "abc", "enabled": false, "permissions": ["a.b:*"]}]`,
	} {
		f.Add(seed, "")
	}
	f.Add(`[{"hash": "J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk="}]`, hashFormatSHA256Base64)
	f.Fuzz(func(t *testing.T, doc, format string) {
		bulk, problems := parseKeysJSON(doc, format)
		if problems != nil {
			if problems.count < len(problems.list) || problems.Error() == "" {
				t.Fatalf("problems miscounted: %+v", problems)
			}
			return
		}
		if len(bulk.hashes) == 0 || len(bulk.hashes) != len(bulk.keys) {
			t.Fatalf("accepted %d hashes for %d keys", len(bulk.hashes), len(bulk.keys))
		}
		for _, h := range bulk.hashes {
			if checkHash(h, format) != "" || bulk.keys[h].Hash != h {
				t.Fatalf("accepted hash %q", h)
			}
		}
		again, problems := parseKeysJSON(bulk.withEntries(bulkKeys{}, nil), format)
		if problems != nil || !reflect.DeepEqual(again.keys, bulk.keys) || !reflect.DeepEqual(again.hashes, bulk.hashes) {
			t.Fatalf("written back, %q reads differently (%v)", doc, problems)
		}
	})
}

func TestKeysJSONWithEntriesKeepsWhatWasApplied(t *testing.T) {
	parse := func(doc string) bulkKeys {
		t.Helper()
		b, problems := parseKeysJSON(doc, "")
		if problems != nil {
			t.Fatal(problems)
		}
		return b
	}
	planned := parse(`[{"hash": "aaa", "name": "new"}, {"hash": "bbb"}, {"hash": "ccc", "name": "added"}]`)
	prior := parse(`[{"hash": "aaa", "name": "old"}, {"hash": "bbb"}, {"hash": "ddd", "name": "removal failed"}]`)
	// The update of aaa and the removal of ddd did not happen; ccc was
	// never migrated, so it stays out too.
	got := parse(planned.withEntries(prior, []string{"aaa", "ccc", "ddd"}))
	if !reflect.DeepEqual(got.hashes, []string{"aaa", "bbb", "ddd"}) {
		t.Fatalf("hashes %v", got.hashes)
	}
	if *got.keys["aaa"].Name != "old" || *got.keys["ddd"].Name != "removal failed" {
		t.Fatalf("entries not taken from the prior state: %+v", got.keys)
	}
	if !strings.HasPrefix(planned.withEntries(prior, nil), "[\n  {") {
		t.Fatal("not one key per line")
	}
}

func TestParseKeysJSONReportsAtMostTwentyProblems(t *testing.T) {
	doc := "[" + strings.TrimSuffix(strings.Repeat(`{"hash": "x"},`, 30), ",") + "]"
	_, problems := parseKeysJSON(doc, "")
	if problems == nil || len(problems.list) != maxReportedProblems || !strings.Contains(problems.Error(), "and 10 more problems") {
		t.Fatalf("got %v", problems)
	}
}

// The parallel reader agrees with the stream reader on every document: the
// same keys, raw entries and hashes in the same order, and the same problems
// word for word.
func FuzzReadKeysJSONAgreesWithStream(f *testing.F) {
	for _, seed := range []string{
		`[{"hash": "J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk=", "name": "a", "meta": {"n": 12345678901234567890, "s": "}]\"{"}}]`,
		`[{"hash": "abc", "credits": {"remaining": 1, "refill": {"interval": "monthly", "amount": 2, "refillDay": 31}}}]`,
		` [ {"hash": "abc", "ratelimits": [{"name": "req", "limit": 1, "duration": 1000, "autoApply": true}]} ,{"hash": "abd", "roles": ["x", "x"]} ] `,
		`[{"hash": "abc"}, {"hash": "abc"}]`, `[{"hash": "abc"}, {"hash": "abc"}, {"hash": "abd"}, {"hash": "abd"}]`, `[{"hash": "abc"}, {"hash": 1}, {"hash": "abd", "nope": 1}, {"hash": "a"}]`,
		`[{"hash": "abc"} {"hash": "abd"}]`, `[{"hash": "abc"},]`, `[{"hash": "abc"}] x`, `[{"hash": "abc", "name": "\"}"}]`,
		`[{"hash": "abc", "name": "x\ud800"}]`, `[{"hash": "abc"}, {"hash": "abd"`, `[{"hash": "abc"}, {}]`, `[{"hash":"abc"}{}]`,
		`{"hash": "abc"}`, `[]`, `[null]`, `[{"hash": "abc", "expires": -1}]`, `[{"hash": "abc", "enabled": false, "permissions": ["a.b:*"]}]`,
	} {
		f.Add(seed, "")
	}
	f.Add(`[{"hash": "J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk="}, {"hash": "abc"}]`, hashFormatSHA256Base64)
	f.Fuzz(func(t *testing.T, doc, format string) {
		got, gotProblems := readKeysJSON(doc, format, "keys_file \"k.json\"")
		want, wantProblems := readKeysJSONStream(doc, format, "keys_file \"k.json\"")
		if (gotProblems == nil) != (wantProblems == nil) || (gotProblems != nil && !reflect.DeepEqual(*gotProblems, *wantProblems)) {
			t.Fatalf("%q: problems %v, the stream reader's %v", doc, gotProblems, wantProblems)
		}
		if !reflect.DeepEqual(got.hashes, want.hashes) || !reflect.DeepEqual(got.keys, want.keys) || !reflect.DeepEqual(got.raw, want.raw) {
			t.Fatalf("%q: read %v, the stream reader %v", doc, got.hashes, want.hashes)
		}
	})
}

// A role or permission listed twice is refused, in a short list (compared
// one by one) as in a long one (through a set).
func TestParseKeysJSONRefusesANameListedTwice(t *testing.T) {
	long := make([]string, 40)
	for i := range long {
		long[i] = fmt.Sprintf("%q", fmt.Sprintf("p%d", i))
	}
	for label, list := range map[string]string{
		"short": `"a","b","a"`,
		"long":  strings.Join(long, ",") + `,"p7"`,
	} {
		for _, field := range []string{"roles", "permissions"} {
			doc := fmt.Sprintf(`[{"hash":"abc","%s":[%s]}]`, field, list)
			_, problems := parseKeysJSON(doc, "")
			if problems == nil || !strings.Contains(problems.Error(), field+" lists ") || !strings.Contains(problems.Error(), " twice.") {
				t.Errorf("%s %s: %v", label, field, problems)
			}
		}
	}
	if _, problems := parseKeysJSON(`[{"hash":"abc","roles":["a","b"],"permissions":[`+strings.Join(long, ",")+`]}]`, ""); problems != nil {
		t.Errorf("distinct names refused: %v", problems)
	}
}

// Each repeated hash names where it first appears, in a document with more
// than one.
func TestParseKeysJSONNamesTheFirstOfEachRepeatedHash(t *testing.T) {
	_, problems := parseKeysJSON(`[{"hash":"aaa"},{"hash":"aaa"},{"hash":"bbb"},{"hash":"ccc"},{"hash":"bbb"}]`, "")
	if problems == nil || !strings.Contains(problems.Error(), `keys_json[1]: hash "aaa" is also keys_json[0]`) ||
		!strings.Contains(problems.Error(), `keys_json[4]: hash "bbb" is also keys_json[2]`) {
		t.Fatalf("got %v", problems)
	}
}
