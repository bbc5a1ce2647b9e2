package keygen

import (
	"encoding/json"
	"fmt"
	"time"
)

// MigrateKey is one key in Unkey's own keys.migrateKeys format
// (V2KeysMigrateKeyData), the shape of the resource's keys_json. Absent
// settings are omitted.
type MigrateKey struct {
	Hash        string             `json:"hash"`
	Name        *string            `json:"name,omitempty"`
	ExternalID  *string            `json:"externalId,omitempty"`
	Meta        json.RawMessage    `json:"meta,omitempty"`
	Roles       []string           `json:"roles,omitempty"`
	Permissions []string           `json:"permissions,omitempty"`
	Expires     *int64             `json:"expires,omitempty"` // Unix milliseconds
	Enabled     bool               `json:"enabled"`
	Credits     *MigrateCredits    `json:"credits,omitempty"`
	Ratelimits  []MigrateRatelimit `json:"ratelimits,omitempty"`
}

// MigrateCredits are Unkey's credits (KeyCreditsData).
type MigrateCredits struct {
	Remaining int64          `json:"remaining"`
	Refill    *MigrateRefill `json:"refill,omitempty"`
}

// MigrateRefill is Unkey's refill (KeyCreditsRefill).
type MigrateRefill struct {
	Interval  string `json:"interval"`
	Amount    int64  `json:"amount"`
	RefillDay *int64 `json:"refillDay,omitempty"`
}

// MigrateRatelimit is one of Unkey's rate limits (RatelimitRequest).
type MigrateRatelimit struct {
	Name      string `json:"name"`
	Limit     int64  `json:"limit"`
	Duration  int64  `json:"duration"` // milliseconds
	AutoApply bool   `json:"autoApply"`
}

// ToMigrate converts one key's settings to Unkey's format: meta becomes an
// object, expires Unix milliseconds, durations milliseconds.
func ToMigrate(hash string, s Settings) (MigrateKey, error) {
	m := MigrateKey{
		Hash: hash, Name: s.Name, ExternalID: s.ExternalID,
		Roles: s.Roles, Permissions: s.Permissions, Enabled: s.Enabled,
	}
	if s.Meta != nil {
		if !json.Valid([]byte(*s.Meta)) {
			return m, fmt.Errorf("%s: meta is not JSON", hash)
		}
		m.Meta = json.RawMessage(*s.Meta)
	}
	if s.Expires != nil {
		t, err := time.Parse(time.RFC3339, *s.Expires)
		if err != nil {
			return m, fmt.Errorf("%s: expires: %w", hash, err)
		}
		m.Expires = ptr(t.UnixMilli())
	}
	if c := s.Credits; c != nil {
		m.Credits = &MigrateCredits{Remaining: c.Remaining}
		if r := c.Refill; r != nil {
			m.Credits.Refill = &MigrateRefill{Interval: r.Interval, Amount: r.Amount, RefillDay: r.RefillDay}
		}
	}
	for _, rl := range s.Ratelimits {
		d, err := time.ParseDuration(rl.Duration)
		if err != nil {
			return m, fmt.Errorf("%s: ratelimit %s: %w", hash, rl.Name, err)
		}
		m.Ratelimits = append(m.Ratelimits, MigrateRatelimit{Name: rl.Name, Limit: rl.Limit, Duration: d.Milliseconds(), AutoApply: rl.AutoApply})
	}
	return m, nil
}

// MigrateKeys returns the keys of raws, in that order, in Unkey's format.
func MigrateKeys(raws []RawKey, settings map[string]Settings) ([]MigrateKey, error) {
	out := make([]MigrateKey, 0, len(raws))
	for _, r := range raws {
		s, ok := settings[r.Hash]
		if !ok {
			return nil, fmt.Errorf("no settings for %s", r.Hash)
		}
		m, err := ToMigrate(r.Hash, s)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
