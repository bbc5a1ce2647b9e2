package unkeyclient_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// countingTransport counts the HTTP attempts that reach the network.
type countingTransport struct {
	next     http.RoundTripper
	attempts atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.attempts.Add(1)
	return c.next.RoundTrip(r)
}

// clientFor is a client of baseURL with a short retry budget that counts its
// attempts.
func clientFor(t *testing.T, baseURL, source string) (*unkeyclient.Client, *countingTransport) {
	t.Helper()
	ct := &countingTransport{next: http.DefaultTransport}
	c, err := unkeyclient.New(unkeyclient.Config{
		BaseURL: baseURL, BaseURLSource: source, RootKey: unkeylocal.DefaultSeed.RootKey,
		HTTPClient: &http.Client{Transport: ct},
		Retry:      unkeyclient.RetryPolicy{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxElapsed: 500 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, ct
}

// closedPortURL is a loopback URL nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	_ = l.Close()
	return url
}

func wantInError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error does not contain %q:\n%v", p, err)
		}
	}
}

// What cannot heal fails at the first attempt, naming the URL and where it
// came from; what can heal is retried.
func TestFailsFastOnlyOnWhatCannotHeal(t *testing.T) {
	tlsServer := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsServer.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	tlsServer.StartTLS()                                   // with a certificate nobody trusts
	t.Cleanup(tlsServer.Close)
	plainServer := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plainServer.Close)
	closed := closedPortURL(t)
	cases := []struct {
		name, url    string
		wantAttempts func(n int32) bool
		want         []string
	}{
		{"name that does not resolve", "https://api.unkey.invalid", func(n int32) bool { return n == 1 },
			[]string{"could not reach Unkey at https://api.unkey.invalid (from UNKEY_API_URL)", "no such host", "does not resolve", "Not retried"}},
		{"untrusted certificate", tlsServer.URL, func(n int32) bool { return n == 1 },
			[]string{"(from UNKEY_API_URL)", "certificate", "TLS certificate is not valid", "Not retried"}},
		{"https to a plain http server", "https://" + strings.TrimPrefix(plainServer.URL, "http://"), func(n int32) bool { return n == 1 },
			[]string{"(from UNKEY_API_URL)", "does not speak TLS"}},
		{"connection refused", closed, func(n int32) bool { return n > 1 },
			[]string{"could not reach Unkey at " + closed + " (from UNKEY_API_URL)", "refused", "gave up after", "attempts"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ct := clientFor(t, tc.url, "from UNKEY_API_URL")
			_, err := c.GetAPI(context.Background(), "api_x")
			wantInError(t, err, tc.want...)
			if n := ct.attempts.Load(); !tc.wantAttempts(n) {
				t.Errorf("%d attempts", n)
			}
			if unkeyclient.IsNotFound(err) {
				t.Error("taken for Unkey's 404")
			}
		})
	}
}

// A server that is not Unkey's API answers 404 with a page of its own: that
// must fail at once, and never pass for Unkey's "not found" (DeleteAPI would
// take the API for deleted already).
func TestAnAnswerThatIsNotUnkeysFailsAtOnce(t *testing.T) {
	for name, fault := range map[string]unkeylocal.Fault{
		"404 page":          {Kind: unkeylocal.FaultRawResponse, Status: 404, ContentType: "text/html", Body: []byte("<html><body>Not Found</body></html>")},
		"404 without body":  {Kind: unkeylocal.FaultRawResponse, Status: 404, ContentType: "text/plain"},
		"403 of a firewall": {Kind: unkeylocal.FaultRawResponse, Status: 403, ContentType: "application/json", Body: []byte(`{"message":"blocked"}`)},
	} {
		t.Run(name, func(t *testing.T) {
			srv, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
			seed := srv.SeedDefault()
			srv.InjectFault(fault)
			c, _ := clientFor(t, url, "from api_url")
			err := c.DeleteAPI(context.Background(), seed.APIID)
			var notUnkey *unkeyclient.NotUnkeyError
			if !errors.As(err, &notUnkey) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			wantInError(t, err, "the server at "+url+" (from api_url)", "not an answer of Unkey's API", "check the API URL")
			if unkeyclient.IsNotFound(err) || unkeyclient.IsForbidden(err) {
				t.Error("taken for an answer of Unkey")
			}
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("%d requests, want 1: it must not be retried", n)
			}
		})
	}
}

// A web page with a success status is not trusted either, and says so.
func TestAWebPageWithStatus200PointsToTheURL(t *testing.T) {
	srv, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
	srv.InjectFault(unkeylocal.Fault{Kind: unkeylocal.FaultRawResponse, Status: 200, ContentType: "text/html", Body: []byte("<!doctype html><title>Example</title>")})
	c, _ := clientFor(t, url, "from UNKEY_API_BASE_URL")
	_, err := c.GetAPI(context.Background(), "api_x")
	wantInError(t, err, "could not be used", "looks like a web page", url+" (from UNKEY_API_BASE_URL)")
}

func TestGaveUpAfterOneAttemptIsSingular(t *testing.T) {
	srv, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
	srv.SeedDefault()
	srv.InjectFault(unkeylocal.Fault{Kind: unkeylocal.FaultRateLimit, RetryAfterSeconds: 60})
	c, _ := clientFor(t, url, "")
	_, err := c.GetAPI(context.Background(), "api_x")
	wantInError(t, err, "gave up after 1 attempt:")
}

func TestUnauthorizedNamesTheRootKeysSource(t *testing.T) {
	srv, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
	seed := srv.SeedDefault()
	c, err := unkeyclient.New(unkeyclient.Config{BaseURL: url, RootKey: "unkey_not_a_known_key_123", RootKeySource: "UNKEY_ROOT_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetAPI(context.Background(), seed.APIID)
	wantInError(t, err, "Unkey answered 401", "Check the provider's root key (UNKEY_ROOT_KEY)")
}

func TestForbiddenNamesTheMissingPermissions(t *testing.T) {
	srv, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
	seed := srv.SeedDefault()
	srv.AddRootKey(seed.WorkspaceID, "unkey_reader_0123456789", "api.*.read_api")
	c, err := unkeyclient.New(unkeyclient.Config{BaseURL: url, RootKey: "unkey_reader_0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.DeleteAPI(context.Background(), seed.APIID)
	var apiErr *unkeyclient.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v", err)
	}
	want := "api." + seed.APIID + ".delete_api or api.*.delete_api" // Unkey names the API's own permission first
	if got := apiErr.MissingPermissions(); got != want {
		t.Errorf("MissingPermissions() = %q, want %q", got, want)
	}
	wantInError(t, err, "The root key lacks one of "+want, "Root key permissions", unkeyclient.PermissionsDocs)
}

// CheckAPI asks Unkey once per API, and not at all when GetAPI already did.
func TestCheckAPIAsksOncePerAPI(t *testing.T) {
	c, srv, seed := newClient(t)
	ctx := context.Background()
	for range 3 {
		if err := c.CheckAPI(ctx, seed.APIID); err != nil {
			t.Fatal(err)
		}
		if err := c.CheckAPI(ctx, "api_missing"); !unkeyclient.IsNotFound(err) {
			t.Fatalf("err = %v", err)
		}
	}
	if n := len(srv.RequestsTo("/v2/apis.getApi")); n != 2 {
		t.Fatalf("%d apis.getApi requests for two APIs", n)
	}
	srv.ResetRequests()
	if _, err := c.GetAPI(ctx, "api_other"); !unkeyclient.IsNotFound(err) {
		t.Fatalf("err = %v", err)
	}
	if err := c.CheckAPI(ctx, "api_other"); !unkeyclient.IsNotFound(err) {
		t.Fatalf("err = %v", err)
	}
	if n := len(srv.RequestsTo("/v2/apis.getApi")); n != 1 {
		t.Fatalf("CheckAPI after GetAPI sent %d requests in all, want only GetAPI's", n)
	}
}

// A refused connection to a server that has never answered is most likely a
// wrong port: it is retried, but for FirstContact, not the whole budget.
func TestRefusedConnectionsOfAServerThatNeverAnsweredAreRetriedBriefly(t *testing.T) {
	ct := &countingTransport{next: http.DefaultTransport}
	url := closedPortURL(t)
	c, err := unkeyclient.New(unkeyclient.Config{
		BaseURL: url, BaseURLSource: "from api_url", RootKey: unkeylocal.DefaultSeed.RootKey, HTTPClient: &http.Client{Transport: ct},
		Retry: unkeyclient.RetryPolicy{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxElapsed: time.Hour, FirstContact: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetAPI(context.Background(), "api_first_contact")
	wantInError(t, err, "could not reach Unkey at "+url+" (from api_url)", "refused", "200ms limit for a server that has never answered")
	if n := ct.attempts.Load(); n < 2 {
		t.Errorf("%d attempts: a refused connection must be retried", n)
	}
}

// Once the server has answered, a refused connection is an outage, retried
// for the whole budget.
func TestRefusedConnectionsOfAServerThatAnsweredGetTheWholeBudget(t *testing.T) {
	srv := unkeylocal.NewServer(unkeylocal.Options{})
	seed := srv.SeedDefault()
	hs := httptest.NewServer(srv)
	c, err := unkeyclient.New(unkeyclient.Config{
		BaseURL: hs.URL, RootKey: seed.RootKey,
		Retry: unkeyclient.RetryPolicy{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxElapsed: 300 * time.Millisecond, FirstContact: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetAPI(context.Background(), seed.APIID); err != nil {
		t.Fatal(err)
	}
	hs.Close()
	_, err = c.GetAPI(context.Background(), seed.APIID)
	wantInError(t, err, "300ms retry limit")
}

func TestCountsOfOneAreSingular(t *testing.T) {
	c, srv, seed := newClient(t)
	srv.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultRawResponse, Status: 200, ContentType: "application/json",
		Body: []byte(`{"meta":{"requestId":"req_1"},"data":{"migrated":[],"failed":null}}`)})
	_, err := c.Migrate(context.Background(), unkeyclient.MigrateRequest{MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: keys("one", 1)})
	wantInError(t, err, "it says nothing about 1 of the 1 hash sent")
}
