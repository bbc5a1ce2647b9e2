package unkeyclient_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

func hashOf(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func newClient(t *testing.T, opts ...func(*unkeyclient.Config)) (*unkeyclient.Client, *unkeylocal.Server, unkeylocal.Seed) {
	t.Helper()
	srv, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
	seed := srv.SeedDefault()
	cfg := unkeyclient.Config{BaseURL: url, RootKey: seed.RootKey, UserAgent: "terraform-provider-unkey/test Terraform/1.5.7",
		Retry: unkeyclient.RetryPolicy{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxElapsed: 10 * time.Second}}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := unkeyclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv, seed
}

func keys(prefix string, n int) []unkeyclient.Key {
	out := make([]unkeyclient.Key, n)
	for i := range out {
		name := fmt.Sprintf("key %d", i)
		out[i] = unkeyclient.Key{Hash: hashOf(fmt.Sprintf("%s_%d", prefix, i)), Name: &name, Enabled: true}
	}
	return out
}

func TestMigrateBatchesAndRecordsEveryKeyID(t *testing.T) {
	c, srv, seed := newClient(t)
	ks := keys("batch", 25)
	res, err := c.Migrate(context.Background(), unkeyclient.MigrateRequest{MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: ks, BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.RequestsTo("/v2/keys.migrateKeys")
	if len(reqs) != 3 || len(reqs[0].Hashes) != 10 || len(reqs[2].Hashes) != 5 {
		t.Fatalf("want batches of 10, 10, 5; got %d requests", len(reqs))
	}
	for _, k := range ks {
		sk, ok := srv.KeyByHash(k.Hash)
		if !ok || res.KeyIDs[k.Hash] != sk.ID {
			t.Fatalf("hash %s: result %q, server %q", k.Hash, res.KeyIDs[k.Hash], sk.ID)
		}
	}
	if !strings.HasPrefix(reqs[0].UserAgent, "terraform-provider-unkey/test Terraform/1.5.7") {
		t.Errorf("User-Agent %q does not name the provider and Terraform", reqs[0].UserAgent)
	}
}

func TestMigrateSplitsBatchesBySize(t *testing.T) {
	c, srv, seed := newClient(t)
	ks := keys("big", 12)
	big := strings.Repeat("x", 1<<20) // each key's meta is 1 MiB
	for i := range ks {
		ks[i].Meta = map[string]any{"blob": big}
	}
	if _, err := c.Migrate(context.Background(), unkeyclient.MigrateRequest{MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: ks, BatchSize: 100}); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.RequestsTo("/v2/keys.migrateKeys") {
		if len(r.Body) > unkeyclient.MaxBatchBytes {
			t.Fatalf("a request body of %d bytes passed the %d limit", len(r.Body), unkeyclient.MaxBatchBytes)
		}
	}
	if n := len(srv.RequestsTo("/v2/keys.migrateKeys")); n != 3 {
		t.Fatalf("12 keys of 1 MiB took %d requests, want 3 of at most 5 MiB", n)
	}
}

// Keys are encoded a segment at a time while the first batches are sent,
// so a key that cannot be sent stops the migration at its own batch: the
// batches before it are migrated and recorded, it and the keys after it
// are not sent.
func TestMigrateSendsTheBatchesBeforeAKeyThatCannotBeEncoded(t *testing.T) {
	c, srv, seed := newClient(t)
	ks := keys("encode", 30)
	ks[25].Meta = map[string]any{"blob": strings.Repeat("x", unkeyclient.MaxBatchBytes)}
	res, err := c.Migrate(context.Background(), unkeyclient.MigrateRequest{MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: ks, BatchSize: 10, Parallel: 1})
	if err == nil || !strings.Contains(err.Error(), ks[25].Hash) || !strings.Contains(err.Error(), "more than the") {
		t.Fatalf("err = %v, want the key that alone passes the request cap named", err)
	}
	if n := len(srv.RequestsTo("/v2/keys.migrateKeys")); n != 2 {
		t.Errorf("%d requests, want the 2 batches before the key's", n)
	}
	if len(res.KeyIDs) != 20 || len(res.NotSent) != 10 || res.NotSent[0] != ks[20].Hash {
		t.Errorf("got %d key IDs and %d not sent (first %v), want 20 and keys 20-29", len(res.KeyIDs), len(res.NotSent), res.NotSent)
	}
}

func TestMigrateReportsExistingHashesAsFailed(t *testing.T) {
	c, _, seed := newClient(t)
	ks := keys("exists", 3)
	req := unkeyclient.MigrateRequest{MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: ks[:1]}
	if _, err := c.Migrate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	req.Keys = ks
	res, err := c.Migrate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.KeyIDs) != 2 || len(res.Failed) != 1 || res.Failed[0] != ks[0].Hash || len(res.Unconfirmed) != 0 {
		t.Fatalf("got %+v", res)
	}
}

func TestMigrateRefusesDuplicateHashes(t *testing.T) {
	c, srv, seed := newClient(t)
	ks := keys("dupe", 2)
	ks[1].Hash = ks[0].Hash
	_, err := c.Migrate(context.Background(), unkeyclient.MigrateRequest{MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: ks})
	if err == nil || !strings.Contains(err.Error(), "appears twice") {
		t.Fatalf("err = %v", err)
	}
	if len(srv.Requests()) != 0 {
		t.Fatal("a request with a duplicate hash was sent")
	}
}

func TestMigrateWaitsForRetryAfterOn429(t *testing.T) {
	c, srv, seed := newClient(t)
	srv.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultRateLimit, RetryAfterSeconds: 1, Times: 2})
	start := time.Now()
	res, err := c.Migrate(context.Background(), unkeyclient.MigrateRequest{MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: keys("rl", 3)})
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Fatalf("two 429s with Retry-After: 1 were retried after %s", waited)
	}
	if len(res.KeyIDs) != 3 {
		t.Fatalf("got %+v", res)
	}
}

func TestMigrateGivesUpWhenRetryAfterPassesTheBudget(t *testing.T) {
	c, srv, seed := newClient(t, func(c *unkeyclient.Config) { c.Retry.MaxElapsed = 2 * time.Second })
	srv.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultRateLimit, RetryAfterSeconds: 30})
	start := time.Now()
	res, err := c.Migrate(context.Background(), unkeyclient.MigrateRequest{MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: keys("budget", 3)})
	if err == nil || !strings.Contains(err.Error(), "retry limit") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("waited although the wait could not fit the budget")
	}
	if len(res.NotSent) != 3 || len(res.Unanswered) != 0 {
		t.Fatalf("a refused batch must count as not sent: %+v", res)
	}
}

// The answer to a committed batch is lost; the retry finds the hashes
// existing. They must be unconfirmed, never "failed".
func TestMigrateLostAnswerMakesHashesUnconfirmed(t *testing.T) {
	for _, kind := range []struct {
		name  string
		fault unkeylocal.Fault
	}{
		{"dropped connection", unkeylocal.Fault{Kind: unkeylocal.FaultDropAfterProcessing}},
		{"gateway timeout", unkeylocal.Fault{Kind: unkeylocal.FaultStatusAfterProcessing, Status: 504}},
	} {
		t.Run(kind.name, func(t *testing.T) {
			c, srv, seed := newClient(t)
			f := kind.fault
			f.Path, f.Times = "/v2/keys.migrateKeys", 1
			srv.InjectFault(f)
			ks := keys("lost", 4)
			res, err := c.Migrate(context.Background(), unkeyclient.MigrateRequest{MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: ks})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Unconfirmed) != 4 || len(res.Failed) != 0 || len(res.KeyIDs) != 0 {
				t.Fatalf("got %+v", res)
			}
		})
	}
}

func TestMigrateStopsAtAPermanentErrorKeepingEarlierKeyIDs(t *testing.T) {
	c, srv, seed := newClient(t)
	srv.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultStatus, Status: 403, Skip: 1, Times: 1})
	res, err := c.Migrate(context.Background(), unkeyclient.MigrateRequest{MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: keys("stop", 30), BatchSize: 10})
	var apiErr *unkeyclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 403 {
		t.Fatalf("err = %v", err)
	}
	if len(res.KeyIDs) != 10 || len(res.NotSent) != 20 {
		t.Fatalf("got %d key IDs and %d not sent, want 10 and 20", len(res.KeyIDs), len(res.NotSent))
	}
}

func TestMigrateRejectsMalformedAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"invalid JSON":      `{"data":`,
		"HTML page":         `<html><body>Bad gateway</body></html>`,
		"unknown hash":      `{"meta":{"requestId":"req_1"},"data":{"migrated":[{"hash":"not-sent","keyId":"key_1"}],"failed":null}}`,
		"same key ID twice": "", // filled below
	} {
		t.Run(name, func(t *testing.T) {
			c, srv, seed := newClient(t)
			ks := keys("malformed", 2)
			if body == "" {
				body = fmt.Sprintf(`{"meta":{"requestId":"req_1"},"data":{"migrated":[{"hash":%q,"keyId":"key_1"},{"hash":%q,"keyId":"key_1"}],"failed":null}}`, ks[0].Hash, ks[1].Hash)
			}
			ct := "application/json"
			if strings.HasPrefix(body, "<") {
				ct = "text/html"
			}
			srv.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultRawResponse, Status: 200, ContentType: ct, Body: []byte(body), Times: 1})
			res, err := c.Migrate(context.Background(), unkeyclient.MigrateRequest{MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: ks})
			var unreadable *unkeyclient.UnreadableAnswerError
			if !errors.As(err, &unreadable) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if len(res.KeyIDs) > 1 || len(srv.RequestsTo("/v2/keys.migrateKeys")) != 1 {
				t.Fatalf("a malformed answer was trusted or retried: %+v", res)
			}
		})
	}
}

func TestErrorsNeverContainTheRootKey(t *testing.T) {
	c, srv, seed := newClient(t)
	srv.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultRawResponse, Status: 400, ContentType: "text/plain",
		Body: []byte("bad token " + seed.RootKey)})
	_, err := c.Migrate(context.Background(), unkeyclient.MigrateRequest{MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: keys("secret", 1)})
	if err == nil || strings.Contains(err.Error(), seed.RootKey) {
		t.Fatalf("err = %v", err)
	}
}

func TestValidateBaseURL(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://api.unkey.com": true, "http://127.0.0.1:8787": true, "http://localhost:1": true, "http://[::1]:80": true,
		"http://api.unkey.com": false, "ftp://x": false, "api.unkey.com": false, "": false, "https://u:p@api.unkey.com": false,
	} {
		if err := unkeyclient.ValidateBaseURL(url); (err == nil) != ok {
			t.Errorf("ValidateBaseURL(%q) = %v", url, err)
		}
	}
}

// inFlightCounter wraps the local API and remembers the most requests it
// ever served at once.
type inFlightCounter struct {
	next     http.Handler
	mu       sync.Mutex
	now, max int
}

func (c *inFlightCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.now++
	c.max = max(c.max, c.now)
	c.mu.Unlock()
	defer func() { c.mu.Lock(); c.now--; c.mu.Unlock() }()
	c.next.ServeHTTP(w, r)
}

func TestMigrateSendsBatchesInParallelAndRecordsThemAll(t *testing.T) {
	srv := unkeylocal.NewServer(unkeylocal.Options{})
	seed := srv.SeedDefault()
	counter := &inFlightCounter{next: srv}
	hs := httptest.NewServer(counter)
	t.Cleanup(hs.Close)
	// Each answer waits, so the workers overlap whatever the machine's speed.
	srv.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultDelay, Delay: 100 * time.Millisecond})
	c, err := unkeyclient.New(unkeyclient.Config{BaseURL: hs.URL, RootKey: seed.RootKey, UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var journaled []string
	ks := keys("parallel", 95)
	res, err := c.Migrate(context.Background(), unkeyclient.MigrateRequest{
		MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: ks, BatchSize: 10, Parallel: 4,
		BeforeBatch: func(h []string) { journaled = append(journaled, h...) }, // not thread-safe on purpose: Migrate serialises callbacks
	})
	if err != nil {
		t.Fatal(err)
	}
	if counter.max != 4 {
		t.Errorf("at most %d requests were in flight at once, want 4", counter.max)
	}
	if len(res.KeyIDs) != len(ks) || len(journaled) != len(ks) {
		t.Fatalf("%d key IDs and %d journaled hashes for %d keys", len(res.KeyIDs), len(journaled), len(ks))
	}
	for _, k := range ks {
		if sk, ok := srv.KeyByHash(k.Hash); !ok || sk.ID != res.KeyIDs[k.Hash] {
			t.Fatalf("hash %s: server has %+v, result has %q", k.Hash, sk, res.KeyIDs[k.Hash])
		}
	}
}

func TestMigrateInParallelStopsStartingBatchesAfterAFailure(t *testing.T) {
	c, srv, seed := newClient(t)
	// The first request fails at once; the others answer slowly, so the two
	// started beside it are still in flight when the failure is recorded.
	srv.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultStatus, Status: 403, Times: 1})
	srv.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultDelay, Delay: 200 * time.Millisecond})
	res, err := c.Migrate(context.Background(), unkeyclient.MigrateRequest{MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: keys("pstop", 100), BatchSize: 10, Parallel: 3})
	if err == nil {
		t.Fatal("want the 403 as an error")
	}
	sent := len(srv.RequestsTo("/v2/keys.migrateKeys"))
	if sent > 3 {
		t.Errorf("%d requests were sent; after the first failed at most the 2 already in flight may follow", sent)
	}
	// Every batch that started besides the failed one is waited for and recorded.
	if len(res.KeyIDs) != (sent-1)*10 || len(res.KeyIDs)+len(res.NotSent) != 100 {
		t.Errorf("%d requests, %d key IDs and %d not sent: the batches in flight were not all recorded", sent, len(res.KeyIDs), len(res.NotSent))
	}
}
