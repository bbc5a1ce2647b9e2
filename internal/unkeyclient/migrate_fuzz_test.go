package unkeyclient

import (
	"encoding/json"
	"fmt"
	"testing"
)

// allBatches is every batch queueBatches encodes for req, or the error
// that stopped it.
func allBatches(req MigrateRequest) ([]batch, error) {
	q := queueBatches(req)
	q.total()
	return q.batches, q.err
}

// Batches keep every key once and in order, never hold more than the batch
// size, and never pass MaxBatchBytes.
func FuzzPlanBatches(f *testing.F) {
	f.Add(uint16(250), uint16(100), uint32(10), uint32(0))
	f.Add(uint16(12), uint16(1000), uint32(1<<20), uint32(7))
	f.Add(uint16(1), uint16(1), uint32(0), uint32(1))
	f.Add(uint16(40), uint16(3), uint32(5<<20-200), uint32(3))
	f.Fuzz(func(t *testing.T, n, batchSize uint16, metaBytes, seed uint32) {
		n %= 300
		metaBytes %= 6 << 20
		if metaBytes > 1<<16 {
			n %= 20 // keep large-key cases within memory
		}
		keys := make([]Key, n)
		for i := range keys {
			keys[i] = Key{Hash: fmt.Sprintf("hash-%d-%d", seed, i), Enabled: true}
			if metaBytes > 0 && (uint32(i)+seed)%5 == 0 {
				keys[i].Meta = map[string]any{"blob": string(make([]byte, metaBytes))}
			}
		}
		req := MigrateRequest{Keys: keys, BatchSize: int(batchSize), Parallel: int(seed % 5)}
		batches, err := allBatches(req)
		if err != nil {
			return // a single key over the cap is refused, not split
		}
		limit := int(batchSize)
		if limit <= 0 {
			limit = 100
		}
		next := 0
		for _, b := range batches {
			if len(b.hashes) == 0 || len(b.hashes) > limit || len(b.keys) != len(b.hashes) {
				t.Fatalf("batch of %d keys (%d hashes) with batch size %d", len(b.keys), len(b.hashes), limit)
			}
			body, err := b.body("mig_0123456789", "api_0123456789")
			if err != nil || !json.Valid(body) || len(body) > MaxBatchBytes+200 {
				t.Fatalf("batch body of %d bytes (%v)", len(body), err)
			}
			for i, h := range b.hashes {
				var k struct{ Hash string }
				if err := json.Unmarshal(b.keys[i], &k); err != nil || h != keys[next].Hash || k.Hash != h {
					t.Fatalf("key %d is %s (encoded %s), want %s", next, h, k.Hash, keys[next].Hash)
				}
				next++
			}
		}
		if next != len(keys) {
			t.Fatalf("%d of %d keys batched", next, len(keys))
		}
	})
}
