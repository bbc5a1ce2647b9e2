package migration

import (
	"reflect"
	"testing"
)

func TestPrivateRoundTrips(t *testing.T) {
	for _, p := range []Private{{}, {IncompleteCreate: true}, {Unanswered: []string{"a", "b"}}, {APINotFound: true}} {
		raw, err := EncodePrivate(p)
		if err != nil {
			t.Fatal(err)
		}
		if p.Empty() != (raw == nil) {
			t.Errorf("%+v encodes as %q", p, raw)
		}
		got, err := DecodePrivate(raw)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("%+v came back as %+v (%v)", p, got, err)
		}
	}
	if _, err := DecodePrivate([]byte("{")); err == nil {
		t.Error("a torn private state decodes")
	}
}

func TestStillConfigured(t *testing.T) {
	kept := map[string]bool{"a": true, "c": true}
	if got := StillConfigured([]string{"a", "b", "c"}, func(h string) bool { return kept[h] }); !reflect.DeepEqual(got, []string{"a", "c"}) {
		t.Errorf("got %v", got)
	}
}
