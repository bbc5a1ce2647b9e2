// Package keygen generates synthetic legacy API keys with a realistic mix of
// settings, for the demo (cmd/genkeys) and the benchmark (cmd/unkey-bench):
// the raw keys, their Unkey hashes, and each key's settings in both shapes
// the provider takes: the `keys` map (hash => settings, every attribute
// present) and Unkey's own keys.migrateKeys array for `keys_json`.
package keygen

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// RawKey is a generated key and its hash.
type RawKey struct {
	Key  string `json:"key"`
	Hash string `json:"hash"`
}

// Settings are one key's settings as unkey_key_migration's keys map takes
// them. No omitempty: absent settings are written as null, so that every
// key decoded by Terraform's jsondecode has the same object type.
type Settings struct {
	Name        *string     `json:"name"`
	ExternalID  *string     `json:"external_id"`
	Meta        *string     `json:"meta"` // a JSON object, encoded as a string like jsonencode's
	Roles       []string    `json:"roles"`
	Permissions []string    `json:"permissions"`
	Expires     *string     `json:"expires"`
	Enabled     bool        `json:"enabled"`
	Credits     *Credits    `json:"credits"`
	Ratelimits  []Ratelimit `json:"ratelimits"`
}

// Credits mirror the resource's credits attribute.
type Credits struct {
	Remaining int64   `json:"remaining"`
	Refill    *Refill `json:"refill"`
}

// Refill mirrors the resource's refill attribute.
type Refill struct {
	Interval  string `json:"interval"`
	Amount    int64  `json:"amount"`
	RefillDay *int64 `json:"refill_day"`
}

// Ratelimit mirrors one of the resource's ratelimits.
type Ratelimit struct {
	Name      string `json:"name"`
	Limit     int64  `json:"limit"`
	Duration  string `json:"duration"`
	AutoApply bool   `json:"auto_apply"`
}

// KeyPrefix starts every generated raw key.
const KeyPrefix = "legacy_"

// keyAlphabet is URL-safe, so raw keys need no escaping anywhere.
const keyAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

var (
	companies = []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent", "Wonka", "Vandelay"}
	purposes  = []string{"production", "staging", "ci", "mobile app", "backend", "analytics", "webhooks", "partner"}
	regions   = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
)

// HashKey is Unkey's hash of a raw key: the standard, padded base64 of the
// SHA-256 of the whole key.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Generate returns n keys and their settings by hash, the same for the same
// seed. The first key is always enabled and unexpiring, so it can be
// verified after migrating.
func Generate(n int, seed uint64) ([]RawKey, map[string]Settings) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) //nolint:gosec // reproducible test data, not secrets
	raws := make([]RawKey, 0, n)
	settings := make(map[string]Settings, n)
	owners := max(n/3, 1) // about three keys per customer
	for len(raws) < n {
		b := make([]byte, 32)
		for j := range b {
			b[j] = keyAlphabet[rng.IntN(len(keyAlphabet))]
		}
		key := KeyPrefix + string(b)
		hash := HashKey(key)
		if _, dup := settings[hash]; dup {
			continue // astronomically unlikely, but hashes must be unique
		}
		raws = append(raws, RawKey{Key: key, Hash: hash})
		settings[hash] = settingsFor(rng, len(raws)-1, owners)
	}
	return raws, settings
}

func settingsFor(rng *rand.Rand, i, owners int) Settings {
	owner := i % owners
	company := companies[owner%len(companies)]
	plan := []string{"free", "free", "pro", "enterprise"}[rng.IntN(4)]
	meta, _ := json.Marshal(map[string]any{
		"plan":       plan,
		"legacy_id":  fmt.Sprintf("lk_%06d", i),
		"region":     regions[rng.IntN(len(regions))],
		"created_by": "genkeys",
	})
	s := Settings{
		Name:    ptr(fmt.Sprintf("%s %s key #%d", company, purposes[rng.IntN(len(purposes))], i)),
		Meta:    ptr(string(meta)),
		Enabled: true,
	}
	if i == 0 || rng.IntN(10) != 0 { // about one in ten has no owner
		s.ExternalID = ptr(fmt.Sprintf("cus_%s_%05d", strings.ToLower(company), owner))
	}
	switch plan {
	case "free":
		s.Credits = &Credits{Remaining: 1000, Refill: &Refill{Interval: "monthly", Amount: 1000, RefillDay: ptr(int64(1 + rng.IntN(28)))}}
		s.Ratelimits = []Ratelimit{{Name: "requests", Limit: 60, Duration: "1m", AutoApply: true}}
	case "pro":
		s.Roles = []string{"developer"}
		s.Permissions = []string{"documents.read"}
		if rng.IntN(2) == 0 {
			s.Credits = &Credits{Remaining: 50000, Refill: &Refill{Interval: "daily", Amount: 50000}}
		}
		s.Ratelimits = []Ratelimit{{Name: "requests", Limit: 1000, Duration: "1m", AutoApply: true}}
	case "enterprise":
		s.Roles = []string{"admin", "developer"}
		s.Permissions = []string{"documents.read", "documents.write", "billing.*"}
		if rng.IntN(2) == 0 {
			s.Ratelimits = []Ratelimit{
				{Name: "requests", Limit: 10000, Duration: "1m", AutoApply: true},
				{Name: "exports", Limit: 10, Duration: "1h"},
			}
		}
	}
	if i != 0 {
		if rng.IntN(10) == 0 { // some keys were issued with an expiry
			exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(3*365))
			s.Expires = ptr(exp.Format(time.RFC3339))
		}
		if rng.IntN(30) == 0 { // and a few were switched off
			s.Enabled = false
		}
	}
	return s
}

func ptr[T any](v T) *T { return &v }
