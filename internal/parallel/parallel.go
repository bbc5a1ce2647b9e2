// Package parallel splits work on many keys across the CPUs: reading,
// checking, digesting and encoding 100,000 keys takes over a second on one.
package parallel

import (
	"runtime"
	"sync"
)

// minChunk is the fewest items worth a goroutine of their own.
const minChunk = 256

// Chunks calls work on n items split into one contiguous chunk per CPU (at
// least minChunk items each), and waits for all of them.
func Chunks(n int, work func(from, to int)) {
	workers := min(runtime.GOMAXPROCS(0), max(n/minChunk, 1))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(w*n/workers, (w+1)*n/workers)
		}()
	}
	wg.Wait()
}
