// Command genkeys generates synthetic legacy API keys for the demo and the
// benchmarks: the raw keys (to verify with) and their Unkey hashes with a
// realistic mix of settings, in the shapes Terraform reads.
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
)

// RawKey is a generated key and its hash.
type RawKey struct {
	Key  string `json:"key"`
	Hash string `json:"hash"`
}

// Settings are one key's settings as unkey_key_migration's keys map takes
// them. Every attribute is present (null when absent) so that jsondecode
// gives every value the same object type.
type Settings struct {
	Name        string      `json:"name"`
	ExternalID  string      `json:"external_id"`
	Meta        string      `json:"meta"`
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

const keyAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

// Generate returns n keys and their settings by hash, the same for the same seed.
func Generate(n int, seed uint64) ([]RawKey, map[string]Settings) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	raws := make([]RawKey, n)
	settings := make(map[string]Settings, n)
	plans := []string{"free", "pro", "enterprise"}
	for i := range raws {
		b := make([]byte, 32)
		for j := range b {
			b[j] = keyAlphabet[rng.IntN(len(keyAlphabet))]
		}
		key := "legacy_" + string(b)
		sum := sha256.Sum256([]byte(key))
		hash := base64.StdEncoding.EncodeToString(sum[:])
		raws[i] = RawKey{Key: key, Hash: hash}

		plan := plans[rng.IntN(len(plans))]
		meta, _ := json.Marshal(map[string]any{"plan": plan, "customer": i})
		s := Settings{
			Name:        fmt.Sprintf("customer %d", i),
			ExternalID:  fmt.Sprintf("user_%d", i%max(n/3, 1)),
			Meta:        string(meta),
			Roles:       []string{},
			Permissions: []string{},
			Enabled:     true,
			Ratelimits:  []Ratelimit{},
		}
		if plan == "enterprise" {
			s.Roles = []string{"admin"}
			s.Permissions = []string{"documents.read", "documents.write"}
		}
		if i%4 == 0 {
			s.Ratelimits = []Ratelimit{{Name: "requests", Limit: 100, Duration: "1m", AutoApply: true}}
		}
		if plan == "free" {
			day := int64(1)
			s.Credits = &Credits{Remaining: 1000, Refill: &Refill{Interval: "monthly", Amount: 1000, RefillDay: &day}}
		}
		settings[hash] = s
	}
	return raws, settings
}

func main() {
	n := flag.Int("n", 1000, "how many keys")
	seed := flag.Uint64("seed", 1, "seed; the same seed gives the same keys")
	outKeys := flag.String("out-keys", "", "write the raw keys and hashes here (JSON)")
	outTF := flag.String("out-tf", "", "write hash => settings here (JSON, for jsondecode)")
	flag.Parse()
	raws, settings := Generate(*n, *seed)
	if err := writeJSON(*outKeys, raws); err != nil {
		log.Fatal(err)
	}
	if err := writeJSON(*outTF, settings); err != nil {
		log.Fatal(err)
	}
}

func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
