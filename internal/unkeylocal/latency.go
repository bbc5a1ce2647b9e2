package unkeylocal

import (
	"context"
	"slices"
	"time"
)

// Latency is a model of the time Unkey's server takes: each request costs
// PerRequest plus PerKey for every key of a keys.migrateKeys body, and at
// most Concurrency requests are served at once while the others wait in
// line. The zero value costs nothing and serves everything at once.
type Latency struct {
	PerRequest  time.Duration
	PerKey      time.Duration
	Concurrency int // 0: no limit
}

// UnkeyLatency is Unkey's server on a 2-core machine, fitted to three
// measurements of 100,000 keys migrated: in batches of 100 one at a time
// 17.9 s, of 1,000 one at a time 14.3 s, of 1,000 four in flight 8.6 s.
var UnkeyLatency = Latency{PerRequest: 4 * time.Millisecond, PerKey: 140 * time.Microsecond, Concurrency: 2}

// Cost is the time one request carrying keys keys takes once served.
func (l Latency) Cost(keys int) time.Duration {
	return l.PerRequest + time.Duration(keys)*l.PerKey
}

// Makespan is the time total keys take in batches of batch keys with
// inFlight requests at a time, by this model.
func (l Latency) Makespan(total, batch, inFlight int) time.Duration {
	if total <= 0 || batch <= 0 || inFlight <= 0 {
		return 0
	}
	served := inFlight
	if l.Concurrency > 0 && l.Concurrency < served {
		served = l.Concurrency
	}
	// Each request, in order, goes to the slot that frees up first.
	busyUntil := make([]time.Duration, served)
	for sent := 0; sent < total; sent += batch {
		first := 0
		for i, t := range busyUntil {
			if t < busyUntil[first] {
				first = i
			}
		}
		busyUntil[first] += l.Cost(min(batch, total-sent))
	}
	return slices.Max(busyUntil)
}

// latencyGate serves requests per a Latency model.
type latencyGate struct {
	model Latency
	slots chan struct{} // nil: no limit
}

func newLatencyGate(l Latency) *latencyGate {
	if l == (Latency{}) {
		return nil
	}
	g := &latencyGate{model: l}
	if l.Concurrency > 0 {
		g.slots = make(chan struct{}, l.Concurrency)
	}
	return g
}

// serve waits for a slot, spends the request's cost and runs f in it. It
// gives up (without running f) when ctx ends first.
func (g *latencyGate) serve(ctx context.Context, keys int, f func()) bool {
	if g == nil {
		f()
		return true
	}
	if g.slots != nil {
		select {
		case g.slots <- struct{}{}:
			defer func() { <-g.slots }()
		case <-ctx.Done():
			return false
		}
	}
	t := time.NewTimer(g.model.Cost(keys))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return false
	}
	f()
	return true
}
