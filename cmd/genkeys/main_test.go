package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
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

// Every key has every attribute (null when absent) so that Terraform's
// jsondecode gives all of them the same object type.
func TestOutputHasUniformAttributes(t *testing.T) {
	dir := t.TempDir()
	keysPath, tfPath, tfJSONPath := filepath.Join(dir, "raw.json"), filepath.Join(dir, "keys.json"), filepath.Join(dir, "keys.tf.json")
	if err := run(100, 5, keysPath, tfPath, "legacy_keys"); err != nil {
		t.Fatal(err)
	}
	if err := run(100, 5, "", tfJSONPath, "legacy_keys"); err != nil {
		t.Fatal(err)
	}

	var raws []RawKey
	readJSON(t, keysPath, &raws)
	if len(raws) != 100 || raws[0].Key == "" || raws[0].Hash == "" {
		t.Fatalf("raw keys file: %+v", raws[:min(len(raws), 1)])
	}

	var byHash map[string]map[string]json.RawMessage
	readJSON(t, tfPath, &byHash)
	want := []string{"credits", "enabled", "expires", "external_id", "meta", "name", "permissions", "ratelimits", "roles"}
	for hash, attrs := range byHash {
		var got []string
		for k := range attrs {
			got = append(got, k)
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s has attributes %v, want %v", hash, got, want)
		}
		var meta string
		if err := json.Unmarshal(attrs["meta"], &meta); err != nil {
			t.Fatalf("%s: meta is not a string: %s", hash, attrs["meta"])
		}
	}
	for _, r := range raws {
		if _, ok := byHash[r.Hash]; !ok {
			t.Fatalf("%s missing from %s", r.Hash, tfPath)
		}
	}

	var cfg struct {
		Locals map[string]map[string]json.RawMessage `json:"locals"`
	}
	readJSON(t, tfJSONPath, &cfg)
	if len(cfg.Locals["legacy_keys"]) != 100 {
		t.Fatalf("%s does not define local.legacy_keys with 100 keys", tfJSONPath)
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	if err := run(0, 1, "x", "", ""); err == nil {
		t.Error("-n 0 accepted")
	}
	if err := run(10, 1, "", "", ""); err == nil {
		t.Error("no outputs accepted")
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
