// Package unkeyclient is the one place that talks to Unkey. It wraps the
// official SDK with the behaviour a Terraform provider needs: batching,
// deliberate retries, answers checked before they are trusted, and error text
// that says what to fix without ever containing the root key.
package unkeyclient

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	unkey "github.com/unkeyed/sdks/api/go/v2"
	"github.com/unkeyed/sdks/api/go/v2/retry"
)

// DefaultBaseURL is Unkey's public API.
const DefaultBaseURL = "https://api.unkey.com"

// Config is everything needed to build a Client.
type Config struct {
	BaseURL string
	RootKey string
	// BaseURLSource and RootKeySource say where the two came from ("from
	// UNKEY_API_URL", "root_key"), for errors that say what to fix.
	BaseURLSource string
	RootKeySource string
	UserAgent     string
	// RequestTimeout bounds one HTTP attempt. Zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Retry bounds the retries of one call. Zero values take the defaults.
	Retry RetryPolicy
	// HTTPClient is used instead of a fresh http.Client when set (tests).
	HTTPClient *http.Client
}

// DefaultRequestTimeout bounds one HTTP attempt; a migrateKeys batch of 1,000
// keys takes Unkey about a tenth of a second, so this only trips on a stuck
// server or network.
const DefaultRequestTimeout = 60 * time.Second

// Client talks to one Unkey workspace with one root key.
type Client struct {
	sdk            *unkey.Unkey
	http           *http.Client // for the endpoints the SDK lacks (post)
	baseURL        string
	rootKey        string
	retry          RetryPolicy
	requestTimeout time.Duration
	baseURLSource  string
	rootKeySource  string
	apiChecks      apiChecks
	// answered is set once any HTTP answer has come back from the server.
	answered *atomic.Bool
}

// New validates the configuration and builds a Client. It never contacts Unkey.
func New(cfg Config) (*Client, error) {
	if cfg.RootKey == "" {
		return nil, errors.New("no root key")
	}
	if err := ValidateBaseURL(cfg.BaseURL); err != nil {
		return nil, err
	}
	timeout := cfg.RequestTimeout
	if timeout == 0 {
		timeout = DefaultRequestTimeout
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{Transport: defaultTransport()}
	}
	answered := &atomic.Bool{}
	httpClient := &http.Client{
		Transport: &observingTransport{next: transportOf(base), userAgent: cfg.UserAgent, answered: answered},
		Timeout:   timeout,
	}
	sdk := unkey.New(
		unkey.WithServerURL(strings.TrimRight(cfg.BaseURL, "/")),
		unkey.WithSecurity(cfg.RootKey),
		unkey.WithClient(httpClient),
		// Retries are decided here, not in the SDK: migrateKeys is not
		// idempotent and 429 needs Retry-After, which the SDK ignores.
		unkey.WithRetryConfig(retry.Config{Strategy: "none"}),
	)
	return &Client{
		sdk: sdk, http: httpClient, rootKey: cfg.RootKey, retry: cfg.Retry.withDefaults(), requestTimeout: timeout,
		baseURL: strings.TrimRight(cfg.BaseURL, "/"), baseURLSource: cfg.BaseURLSource, rootKeySource: cfg.RootKeySource,
		answered: answered,
	}, nil
}

// server names the API URL and where it came from, for errors.
func (c *Client) server() string {
	if c.baseURLSource == "" {
		return c.baseURL
	}
	return c.baseURL + " (" + c.baseURLSource + ")"
}

// RootKeySource says where the root key came from, as given in Config.
func (c *Client) RootKeySource() string { return c.rootKeySource }

func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// ValidateBaseURL accepts an absolute http(s) URL; plain http only for
// loopback hosts, so a root key never crosses a network unencrypted.
func ValidateBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q is not an absolute http(s) URL such as %s", raw, DefaultBaseURL)
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return fmt.Errorf("%q uses plain http to a host that is not loopback; the root key would travel unencrypted: use https", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must not contain a query, fragment or user info", raw)
	}
	return nil
}

// IsLoopbackHost reports whether host names this machine.
func IsLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := parseIP(host)
	return ip != nil && ip.IsLoopback()
}

// scrub removes the root key from text that may reach the user.
func (c *Client) scrub(s string) string {
	if c.rootKey == "" {
		return s
	}
	return strings.ReplaceAll(s, c.rootKey, "[redacted root key]")
}

func defaultTransport() http.RoundTripper {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t = t.Clone()
		// Enough idle connections for every parallel request to reuse one;
		// the default of 2 makes each extra request open a new connection.
		t.MaxIdleConnsPerHost = MaxParallel
		return t
	}
	return http.DefaultTransport
}
