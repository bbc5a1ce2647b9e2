package parallel

import (
	"sync"
	"testing"
)

// Every item is worked on exactly once, whatever n, in chunks that do not
// overlap.
func TestChunksCoverEveryItemOnce(t *testing.T) {
	for _, n := range []int{0, 1, minChunk - 1, minChunk, 3*minChunk + 7, 100000} {
		seen := make([]int, n)
		var mu sync.Mutex
		Chunks(n, func(from, to int) {
			mu.Lock()
			defer mu.Unlock()
			for i := from; i < to; i++ {
				seen[i]++
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: item %d worked on %d times", n, i, c)
			}
		}
	}
}
