package keygen

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"regexp"
	"testing"
	"time"
)

var rawKeyPattern = regexp.MustCompile(`^legacy_[A-Za-z0-9_-]{32}$`)

func TestGenerateIsDeterministic(t *testing.T) {
	raws, settings := Generate(200, 7)
	raws2, settings2 := Generate(200, 7)
	if !reflect.DeepEqual(raws, raws2) || !reflect.DeepEqual(settings, settings2) {
		t.Fatal("the same seed gave different keys")
	}
	other, _ := Generate(200, 8)
	if reflect.DeepEqual(raws, other) {
		t.Fatal("different seeds gave the same keys")
	}
}

func TestHashesAreStandardBase64SHA256OfTheWholeKey(t *testing.T) {
	raws, settings := Generate(300, 1)
	if len(raws) != 300 || len(settings) != 300 {
		t.Fatalf("%d keys and %d distinct hashes, want 300 of each", len(raws), len(settings))
	}
	for _, r := range raws {
		if !rawKeyPattern.MatchString(r.Key) {
			t.Fatalf("raw key %q does not look like legacy_ + 32 URL-safe characters", r.Key)
		}
		sum := sha256.Sum256([]byte(r.Key))
		if want := base64.StdEncoding.EncodeToString(sum[:]); r.Hash != want {
			t.Fatalf("hash of %s = %s, want %s", r.Key, r.Hash, want)
		}
		if len(r.Hash) != 44 || r.Hash[43] != '=' {
			t.Fatalf("hash %s is not padded standard base64 of 32 bytes", r.Hash)
		}
		if _, ok := settings[r.Hash]; !ok {
			t.Fatalf("no settings for %s", r.Hash)
		}
	}
}

func TestSettingsAreValidAndVaried(t *testing.T) {
	raws, settings := Generate(1000, 3)
	first := settings[raws[0].Hash]
	if !first.Enabled || first.Expires != nil {
		t.Error("the first key must stay verifiable: enabled and unexpiring")
	}
	var disabled, expiring, withCredits, withRoles, withRatelimits, withoutOwner int
	for hash, s := range settings {
		var meta map[string]any
		if s.Meta == nil || json.Unmarshal([]byte(*s.Meta), &meta) != nil {
			t.Fatalf("%s: meta is not a JSON object string", hash)
		}
		if s.Name == nil || len(*s.Name) == 0 || len(*s.Name) > 255 {
			t.Fatalf("%s: bad name", hash)
		}
		if s.Expires != nil {
			exp, err := time.Parse(time.RFC3339, *s.Expires)
			if err != nil || !exp.After(time.Date(2029, 12, 31, 0, 0, 0, 0, time.UTC)) {
				t.Fatalf("%s: expires %q is not a future RFC 3339 time", hash, *s.Expires)
			}
			expiring++
		}
		if c := s.Credits; c != nil {
			withCredits++
			if r := c.Refill; r != nil && (r.Interval == "monthly") != (r.RefillDay != nil) {
				t.Fatalf("%s: refill_day must be set exactly for monthly refills", hash)
			}
		}
		for _, rl := range s.Ratelimits {
			if d, err := time.ParseDuration(rl.Duration); err != nil || d < time.Second {
				t.Fatalf("%s: ratelimit duration %q", hash, rl.Duration)
			}
		}
		if !s.Enabled {
			disabled++
		}
		if s.Roles != nil {
			withRoles++
		}
		if s.Ratelimits != nil {
			withRatelimits++
		}
		if s.ExternalID == nil {
			withoutOwner++
		}
	}
	for what, count := range map[string]int{"disabled": disabled, "expiring": expiring, "with credits": withCredits,
		"with roles": withRoles, "with rate limits": withRatelimits, "without owner": withoutOwner} {
		if count == 0 || count == len(settings) {
			t.Errorf("%d of %d keys %s: want a mix", count, len(settings), what)
		}
	}
}

func TestToMigrateConvertsUnitsAndOmitsAbsentSettings(t *testing.T) {
	s := Settings{
		Name:       ptr("k"),
		Meta:       ptr(`{"plan":"pro"}`),
		Expires:    ptr("2030-01-01T00:00:00Z"),
		Enabled:    false,
		Credits:    &Credits{Remaining: 5, Refill: &Refill{Interval: "monthly", Amount: 7, RefillDay: ptr(int64(3))}},
		Ratelimits: []Ratelimit{{Name: "requests", Limit: 60, Duration: "1m", AutoApply: true}, {Name: "exports", Limit: 1, Duration: "1h"}},
	}
	m, err := ToMigrate("h1", s)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(m)
	want := `{"hash":"h1","name":"k","meta":{"plan":"pro"},"expires":1893456000000,"enabled":false,` +
		`"credits":{"remaining":5,"refill":{"interval":"monthly","amount":7,"refillDay":3}},` +
		`"ratelimits":[{"name":"requests","limit":60,"duration":60000,"autoApply":true},{"name":"exports","limit":1,"duration":3600000,"autoApply":false}]}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if _, err := ToMigrate("h2", Settings{Expires: ptr("tomorrow")}); err == nil {
		t.Error("a bad expires was accepted")
	}
	if _, err := ToMigrate("h3", Settings{Ratelimits: []Ratelimit{{Name: "x", Duration: "soon"}}}); err == nil {
		t.Error("a bad duration was accepted")
	}
}

func TestMigrateKeysKeepsOrderAndEveryKey(t *testing.T) {
	raws, settings := Generate(500, 9)
	keys, err := MigrateKeys(raws, settings)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(raws) {
		t.Fatalf("%d keys, want %d", len(keys), len(raws))
	}
	for i, k := range keys {
		if k.Hash != raws[i].Hash {
			t.Fatalf("key %d is %s, want %s", i, k.Hash, raws[i].Hash)
		}
		if s := settings[k.Hash]; k.Enabled != s.Enabled || (s.Roles == nil) != (k.Roles == nil) || (s.Credits == nil) != (k.Credits == nil) {
			t.Fatalf("key %d: settings not carried over", i)
		}
	}
	delete(settings, raws[3].Hash)
	if _, err := MigrateKeys(raws, settings); err == nil {
		t.Error("a key without settings was accepted")
	}
}
