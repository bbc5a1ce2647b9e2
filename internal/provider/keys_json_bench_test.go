package provider

import (
	"encoding/json"
	"testing"

	"github.com/unkeyed/terraform-provider-unkey/internal/keygen"
)

// BenchmarkReadKeysJSON reads 100,000 keys of keygen's realistic mix, as
// every provider process does once per command (validation).
func BenchmarkReadKeysJSON(b *testing.B) {
	benchmarkKeysReader(b, readKeysJSON)
}

// BenchmarkReadKeysJSONStream is the same with the one-pass stream reader,
// which the parallel reader falls back to.
func BenchmarkReadKeysJSONStream(b *testing.B) {
	benchmarkKeysReader(b, readKeysJSONStream)
}

func benchmarkKeysReader(b *testing.B, read func(doc, hashFormat, name string) (bulkKeys, *keysJSONProblems)) {
	raws, settings := keygen.Generate(100000, 1)
	keys, err := keygen.MigrateKeys(raws, settings)
	if err != nil {
		b.Fatal(err)
	}
	doc, err := json.Marshal(keys)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, problems := read(string(doc), hashFormatSHA256Base64, "keys_json"); problems != nil {
			b.Fatal(problems)
		}
	}
}
