package unkeylocal

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestUnkeyLatencyMatchesTheMeasurements(t *testing.T) {
	if got := UnkeyLatency.Cost(100); got != 18*time.Millisecond {
		t.Errorf("100 keys: %v", got)
	}
	if got := UnkeyLatency.Cost(1000); got != 144*time.Millisecond {
		t.Errorf("1,000 keys: %v", got)
	}
	// The calibration: 100,000 keys on Unkey's server, 2 cores.
	for _, m := range []struct {
		batch, inFlight int
		measured        time.Duration
	}{
		{100, 1, 17900 * time.Millisecond},
		{1000, 1, 14300 * time.Millisecond},
		{1000, 4, 8600 * time.Millisecond},
	} {
		got := UnkeyLatency.Makespan(100000, m.batch, m.inFlight)
		if ratio := float64(got) / float64(m.measured); ratio < 0.8 || ratio > 1.2 {
			t.Errorf("batches of %d, %d in flight: model %v, measured %v", m.batch, m.inFlight, got, m.measured)
		}
	}
}

func TestMakespan(t *testing.T) {
	l := Latency{PerRequest: 10 * time.Millisecond, PerKey: time.Millisecond, Concurrency: 2}
	for _, tc := range []struct {
		total, batch, inFlight int
		want                   time.Duration
	}{
		{250, 100, 1, 110*time.Millisecond + 110*time.Millisecond + 60*time.Millisecond},
		// Two slots: 110 | 110, then the short batch on the first free one.
		{250, 100, 4, 110*time.Millisecond + 60*time.Millisecond},
		{400, 100, 2, 2 * 110 * time.Millisecond},
		{0, 100, 1, 0},
	} {
		if got := l.Makespan(tc.total, tc.batch, tc.inFlight); got != tc.want {
			t.Errorf("%+v: %v", tc, got)
		}
	}
	// No concurrency limit: every request at once.
	if got := (Latency{PerRequest: time.Second}).Makespan(10, 1, 10); got != time.Second {
		t.Errorf("unlimited: %v", got)
	}
}

func TestLatencyGateServesAtMostConcurrency(t *testing.T) {
	g := newLatencyGate(Latency{PerKey: time.Nanosecond, Concurrency: 2})
	var mu sync.Mutex
	running, most, ran := 0, 0, 0
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.serve(context.Background(), 1, func() {
				mu.Lock()
				running++
				most = max(most, running)
				ran++
				mu.Unlock()
				time.Sleep(time.Millisecond) // let others try to get in
				mu.Lock()
				running--
				mu.Unlock()
			})
		}()
	}
	wg.Wait()
	if most > 2 || ran != 20 {
		t.Fatalf("%d at once, %d served", most, ran)
	}

	// A request whose client gives up while it waits in line is not served.
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	for range 2 {
		go g.serve(context.Background(), 0, func() { entered <- struct{}{}; <-release })
	}
	<-entered
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if g.serve(ctx, 0, func() { t.Error("served after the client gave up") }) {
		t.Error("serve reported success")
	}
	close(release)

	if newLatencyGate(Latency{}) != nil {
		t.Error("the zero Latency must cost nothing")
	}
}

func TestServerAppliesTheLatencyModel(t *testing.T) {
	e := newEnv(t, Options{Latency: Latency{PerRequest: time.Nanosecond, Concurrency: 1}})
	// While the only slot is taken, a request waits in line unprocessed.
	release := make(chan struct{})
	busy := make(chan struct{})
	go e.srv.latency.serve(context.Background(), 0, func() { close(busy); <-release })
	<-busy
	done := make(chan answer, 1)
	go func() { done <- e.do(e.migrateRequest("sk_queued")) }()
	for len(e.srv.RequestsTo(migratePath)) == 0 {
		time.Sleep(time.Millisecond)
	}
	if e.stored("sk_queued") {
		t.Fatal("processed while the server was busy")
	}
	close(release)
	(<-done).ok(t, nil)
	if !e.stored("sk_queued") {
		t.Error("not processed once the slot was free")
	}
}
