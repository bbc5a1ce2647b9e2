package main

import (
	"context"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// localAPI is a fresh local Unkey-compatible API on a loopback port. Every
// run gets its own, because hashes are unique per server: a run must never
// meet the hashes of the one before.
type localAPI struct {
	srv  *unkeylocal.Server
	url  string
	seed unkeylocal.Seed
	http *http.Server
}

// serverLatency is the time model of every local API of the run (set once,
// from -latency, before the first starts).
var serverLatency unkeylocal.Latency

func startLocalAPI() (*localAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := unkeylocal.NewServer(unkeylocal.Options{Latency: serverLatency})
	a := &localAPI{srv: srv, url: "http://" + ln.Addr().String(), seed: srv.SeedDefault()}
	a.http = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.http.Serve(ln) }()
	return a, nil
}

func (a *localAPI) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.http.Shutdown(ctx)
}

// apiCalls summarises the requests a server received during one step.
type apiCalls struct {
	Calls  int            // every request
	ByPath map[string]int // requests per path
	// MigrateHashes are the hashes received by keys.migrateKeys, in order.
	MigrateHashes []string
	// KeyIDs are the distinct keyId values of the requests, sorted: the
	// keys the step touched outside keys.migrateKeys.
	KeyIDs []string
	// Failed counts answers other than 200.
	Failed int
}

// summarize counts keys.migrateKeys hashes and touched key IDs in the
// recorded requests.
func summarize(reqs []unkeylocal.Request) apiCalls {
	c := apiCalls{ByPath: map[string]int{}}
	ids := map[string]bool{}
	for _, r := range reqs {
		c.Calls++
		c.ByPath[r.Path]++
		if r.Status != http.StatusOK {
			c.Failed++
		}
		if r.Path == "/v2/keys.migrateKeys" {
			c.MigrateHashes = append(c.MigrateHashes, r.Hashes...)
		}
		if r.KeyID != "" && !ids[r.KeyID] {
			ids[r.KeyID] = true
			c.KeyIDs = append(c.KeyIDs, r.KeyID)
		}
	}
	sort.Strings(c.KeyIDs)
	return c
}

// paths lists the paths called, "path×count", sorted.
func (c apiCalls) paths() []string {
	out := make([]string, 0, len(c.ByPath))
	for p, n := range c.ByPath {
		out = append(out, p[len("/v2/"):]+"×"+itoa(n))
	}
	sort.Strings(out)
	return out
}
