package provider_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// withProviderSettings adds arguments to the provider block of a config.
func withProviderSettings(cfg, settings string) string {
	return strings.Replace(cfg, "provider \"unkey\" {\n", "provider \"unkey\" {\n"+settings+"\n", 1)
}

// sequential sends one batch at a time, for tests whose faults hit a given
// batch or whose waits must add up.
func sequential(cfg string) string {
	return withProviderSettings(cfg, "  parallel_requests = 1")
}

// setOf reads a set attribute of the migration from state.
func setOf(r *tfjson.StateResource, attr string) []string {
	var out []string
	items, _ := r.AttributeValues[attr].([]any)
	for _, v := range items {
		s, _ := v.(string)
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// sentCount counts how often each hash reached migrateKeys.
func sentCount(u localUnkey) map[string]int {
	n := map[string]int{}
	for _, h := range u.migratedHashes() {
		n[h]++
	}
	return n
}

func TestAccHostile_rateLimitedRequestsAreWaitedFor(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	keys := generatedKeys("ratelimited", 30)
	u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultRateLimit, RetryAfterSeconds: 1, Times: 3})
	var start time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			PreConfig:         func() { start = time.Now() },
			Config:            sequential(u.migrationConfig("  batch_size = 10", keys)),
			ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, sortedHashes(keys))},
			Check: func(*terraform.State) error {
				if waited := time.Since(start); waited < 3*time.Second {
					return fmt.Errorf("three 429s with Retry-After: 1 were retried within %s", waited)
				}
				limited := 0
				for _, r := range u.RequestsTo("/v2/keys.migrateKeys") {
					if r.Status == 429 {
						limited++
					}
				}
				if limited != 3 {
					return fmt.Errorf("%d requests were rate limited, want 3", limited)
				}
				return nil
			},
		}},
	})
}

// A Retry-After longer than retry_timeout is not waited for: the apply stops
// with what it has, says why, and the next apply sends only what is pending.
func TestAccHostile_rateLimitBeyondRetryTimeout(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	first := generatedKeys("budget_first", 10)
	all := merge(first, generatedKeys("budget_more", 30))
	cfg := func(keys map[string]string) string {
		return withProviderSettings(u.migrationConfig("  batch_size = 10", keys), `  retry_timeout = "2s"`)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg(first)},
			{
				PreConfig: func() {
					u.ResetRequests()
					u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultRateLimit, RetryAfterSeconds: 60, Skip: 1})
				},
				Config:      cfg(all),
				ExpectError: errorLike("Key migration update incomplete", "429", "retry limit", "Of 40 hashes: 20 migrated", "20 still pending", "run `terraform apply` again"),
			},
			{
				PreConfig: func() {
					u.ClearFaults()
					u.ResetRequests()
				},
				Config:            cfg(all),
				ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, sortedHashes(all))},
				Check: func(*terraform.State) error {
					if n := len(u.migratedHashes()); n != 20 {
						return fmt.Errorf("the resumed apply sent %d hashes, want the 20 pending", n)
					}
					return nil
				},
			},
		},
	})
}

// The server commits a batch and the answer is lost. The retry finds those
// hashes existing: they are unconfirmed, never "failed", and nothing else is
// sent twice.
func TestAccHostile_lostAnswers(t *testing.T) {
	t.Parallel()
	for name, fault := range map[string]unkeylocal.Fault{
		"dropped connection": {Kind: unkeylocal.FaultDropAfterProcessing},
		"502 from a gateway": {Kind: unkeylocal.FaultStatusAfterProcessing, Status: 502, ContentType: "text/html", Body: []byte("<html>Bad Gateway</html>")},
		"504 from a gateway": {Kind: unkeylocal.FaultStatusAfterProcessing, Status: 504, ContentType: "text/html", Body: []byte("<html>Gateway Timeout</html>")},
	} {
		t.Run(name, func(t *testing.T) {
			u := startLocalUnkey(t)
			keys := generatedKeys("lost", 30)
			hashes := sortedHashes(keys)
			lostBatch := hashes[10:20] // batches go in hash order
			fault.Path, fault.Skip, fault.Times = "/v2/keys.migrateKeys", 1, 1
			u.InjectFault(fault)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config: sequential(u.migrationConfig("  batch_size = 10", keys)),
					ConfigStateChecks: []statecheck.StateCheck{
						stateCheck(func(r *tfjson.StateResource) error {
							if got := setOf(r, "unconfirmed_hashes"); !slices.Equal(got, lostBatch) {
								return fmt.Errorf("unconfirmed_hashes = %v, want the lost batch %v", abbreviate(got), abbreviate(lostBatch))
							}
							if got := setOf(r, "failed_hashes"); len(got) != 0 {
								return fmt.Errorf("failed_hashes = %v, want none", got)
							}
							ids := keyIDsOf(r)
							for _, h := range lostBatch {
								if _, ok := ids[h]; ok {
									return fmt.Errorf("a key ID was invented for lost hash %s", h)
								}
							}
							if len(ids) != 20 {
								return fmt.Errorf("%d key IDs, want 20", len(ids))
							}
							return nil
						}),
					},
					Check: func(*terraform.State) error {
						for h, n := range sentCount(u) {
							if want := map[bool]int{true: 2, false: 1}[slices.Contains(lostBatch, h)]; n != want {
								return fmt.Errorf("hash %s sent %d times, want %d", h, n, want)
							}
						}
						return nil
					},
				}},
			})
		})
	}
}

// When every retry loses its answer, the batch's outcome stays unknown: it is
// sent once more on the next apply, and what then "already exists" counts as
// unconfirmed; the batches never sent are sent normally.
func TestAccHostile_lostAnswersUntilRetriesRunOut(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	first := generatedKeys("outlast_first", 5)
	more := generatedKeys("outlast_more", 30)
	all := merge(first, more)
	moreHashes := sortedHashes(more)
	cfg := func(keys map[string]string) string {
		return sequential(withProviderSettings(u.migrationConfig("  batch_size = 10", keys), `  retry_timeout = "1s"`))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg(first)},
			{
				PreConfig: func() {
					u.ResetRequests()
					u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultDropAfterProcessing, Skip: 1})
				},
				Config:      cfg(all),
				ExpectError: errorLike("Key migration update incomplete", "no answer came back", "in a request whose answer was lost"),
			},
			{
				PreConfig: func() {
					u.ClearFaults()
					u.ResetRequests()
				},
				Config: cfg(all),
				ConfigStateChecks: []statecheck.StateCheck{
					stateCheck(func(r *tfjson.StateResource) error {
						if got := setOf(r, "unconfirmed_hashes"); !slices.Equal(got, moreHashes[10:20]) {
							return fmt.Errorf("unconfirmed_hashes = %v, want the batch whose answers were lost", abbreviate(got))
						}
						if n := len(keyIDsOf(r)); n != 25 {
							return fmt.Errorf("%d key IDs, want 25", n)
						}
						return nil
					}),
					statecheck.ExpectKnownValue(migration, tfjsonpath.New("failed_hashes"), knownvalue.SetSizeExact(0)),
				},
			},
		},
	})
}

// Answers that cannot be trusted give a clear error, no panic, and no
// invented key IDs; the hashes concerned are checked again on the next apply.
func TestAccHostile_malformedAnswers(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		contentType, body string
		want              string
	}{
		"invalid JSON":     {"application/json", `{"data":{"migrated":[`, "could not be used"},
		"HTML error page":  {"text/html", "<html><body><h1>Service Unavailable</h1></body></html>", "could not be used"},
		"200 without data": {"application/json", `{"meta":{"requestId":"req_nodata"}}`, "says nothing about 10 of the 10 hashes"},
		"unknown hash":     {"application/json", `{"meta":{"requestId":"req_x"},"data":{"migrated":[{"hash":"never-sent","keyId":"key_bogus"}],"failed":null}}`, `lists hash "never-sent" as migrated, which was not sent`},
		"no request ID":    {"application/json", `{"data":{"migrated":[],"failed":null}}`, "says nothing about 10 of the 10 hashes"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			u := startLocalUnkey(t)
			first := generatedKeys("malformed_first", 3)
			all := merge(first, generatedKeys("malformed_more", 10))
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{
					{Config: u.migrationConfig("  batch_size = 10", first)},
					{
						PreConfig: func() {
							u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultRawResponse, Status: 200, ContentType: c.contentType, Body: []byte(c.body), Times: 1})
						},
						Config:      u.migrationConfig("  batch_size = 10", all),
						ExpectError: errorLike("Key migration update incomplete", c.want),
					},
					{
						Config:            u.migrationConfig("  batch_size = 10", all),
						ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, sortedHashes(all))},
					},
				},
			})
		})
	}
}

// A server slower than request_timeout never hangs an apply: the request is
// abandoned, retried within retry_timeout, and the apply then fails clearly.
func TestAccHostile_slowServer(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	keys := generatedKeys("slow", 3)
	u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultDelay, Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      withProviderSettings(u.migrationConfig("", keys), "  request_timeout = \"1s\"\n  retry_timeout = \"3s\""),
			ExpectError: errorLike("the request was sent but no answer came back", "no answer within the request timeout of 1s (request_timeout)", "3s retry limit"),
		}},
	})
	if ctx.Err() != nil {
		t.Fatal("the apply took longer than request_timeout and retry_timeout allow")
	}
}
