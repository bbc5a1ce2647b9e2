package unkeyclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// RetryPolicy bounds how long one call keeps retrying.
type RetryPolicy struct {
	// MaxElapsed is the most time spent waiting between attempts of one call,
	// Retry-After waits included. A wait that would pass it is not started.
	// Zero means DefaultRetryMaxElapsed; negative means no retries.
	MaxElapsed     time.Duration
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// FirstContact bounds MaxElapsed for a request that could not reach a
	// server that has never answered this client: then a refused connection
	// most likely means a wrong URL or port, not an outage, and must not cost
	// the whole retry budget. Zero means DefaultFirstContactRetry.
	FirstContact time.Duration
}

// DefaultFirstContactRetry is how long a server that has never answered is
// retried.
const DefaultFirstContactRetry = 30 * time.Second

// DefaultRetryMaxElapsed is the documented bound on retrying one request.
const DefaultRetryMaxElapsed = 5 * time.Minute

func (p RetryPolicy) withDefaults() RetryPolicy {
	switch {
	case p.MaxElapsed == 0:
		p.MaxElapsed = DefaultRetryMaxElapsed
	case p.MaxElapsed < 0: // retries turned off
		p.MaxElapsed = 0
	}
	if p.InitialBackoff == 0 {
		p.InitialBackoff = 500 * time.Millisecond
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = 20 * time.Second
	}
	if p.FirstContact == 0 {
		p.FirstContact = DefaultFirstContactRetry
	}
	return p
}

// attemptFailure is one failed attempt, classified.
type attemptFailure struct {
	err error
	// retryable: trying again can succeed and cannot do harm.
	retryable bool
	// mayHaveTakenEffect: Unkey may have carried the request out although
	// it did not say so (the answer was lost or came from a gateway).
	mayHaveTakenEffect bool
	retryAfter         time.Duration
	// unreached: no answer came back and the request was not sent.
	unreached bool
}

// callOutcome tells a caller of a non-idempotent operation whether any
// attempt may have taken effect before the one whose answer it got.
type callOutcome struct {
	earlierAttemptMayHaveTakenEffect bool
	lastAttemptMayHaveTakenEffect    bool
	attempts                         int
}

// call runs fn until it succeeds, fails for good, or the retry budget is
// spent. Each attempt runs on a context that Terraform's cancellation does not
// reach, so an interrupt never cuts a request off halfway (leaving its effect
// unknown); cancellation is honoured between attempts instead.
func (c *Client) call(ctx context.Context, op string, fn func(ctx context.Context) error) (callOutcome, error) {
	var out callOutcome
	start := time.Now()
	backoff := c.retry.InitialBackoff
	for {
		out.attempts++
		attemptCtx, ex := withExchange(context.WithoutCancel(ctx))
		err := fn(attemptCtx)
		if err == nil {
			return out, nil
		}
		failure := c.classify(op, err, ex)
		out.lastAttemptMayHaveTakenEffect = failure.mayHaveTakenEffect
		if !failure.retryable {
			return out, failure.err
		}
		wait := backoff
		if failure.retryAfter > 0 {
			wait = failure.retryAfter
		}
		limit, why := c.retry.MaxElapsed, "retry limit"
		if failure.unreached && !c.answered.Load() && c.retry.FirstContact < limit {
			limit, why = c.retry.FirstContact, "limit for a server that has never answered"
		}
		if time.Since(start)+wait > limit {
			return out, fmt.Errorf("%w (gave up after %s: the next wait of %s would pass the %s %s)",
				failure.err, countOf(out.attempts, "attempt", "attempts"), wait, limit, why)
		}
		tflog.Warn(ctx, "Unkey request failed, retrying", map[string]any{
			"operation": op, "api_url": c.server(), "attempt": out.attempts, "wait": wait.String(), "error": failure.err.Error(),
		})
		if failure.mayHaveTakenEffect {
			out.earlierAttemptMayHaveTakenEffect = true
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("%w; stopped retrying because the operation was cancelled", failure.err)
		case <-time.After(wait):
		}
		backoff = min(backoff*2, c.retry.MaxBackoff)
	}
}

func (c *Client) classify(op string, err error, ex *exchange) attemptFailure {
	switch {
	case ex.status >= 400:
		return c.classifyStatus(op, ex)
	case ex.status >= 200 && ex.status < 300:
		return attemptFailure{
			err: &UnreadableAnswerError{
				Operation: op, Status: ex.status, Reason: c.scrub(err.Error()),
				BodyStart: c.scrub(truncate(string(ex.bodyStart()), 120)), Server: c.server(),
			},
			mayHaveTakenEffect: true,
		}
	case ex.transportErr != nil:
		cause := ex.transportErr
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			cause = fmt.Errorf("no answer within the request timeout of %s (request_timeout): %w", c.requestTimeout, ex.transportErr)
		}
		hint := permanentTransportFailure(ex.transportErr)
		return attemptFailure{
			err: &TransportError{Operation: op, Sent: ex.wroteRequest, Server: c.server(), Hint: hint,
				Err: &scrubbedError{msg: c.scrub(cause.Error()), err: cause}},
			retryable:          hint == "",
			mayHaveTakenEffect: ex.wroteRequest,
			unreached:          !ex.wroteRequest,
		}
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return attemptFailure{err: apiErr}
	}
	return attemptFailure{err: &scrubbedError{msg: op + ": " + c.scrub(err.Error()), err: err}}
}

// classifyStatus classifies an error status. Only what can heal is retried:
// 429 and 5xx. Any other status without Unkey's error object did not come
// from Unkey, so it fails at once with a pointer to the URL.
func (c *Client) classifyStatus(op string, ex *exchange) attemptFailure {
	apiErr, fromUnkey := apiErrorFrom(op, ex)
	apiErr.Detail = c.scrub(apiErr.Detail)
	apiErr.Body = c.scrub(apiErr.Body)
	apiErr.RootKeySource = c.rootKeySource
	if !fromUnkey {
		apiErr.Server = c.server()
	}
	f := attemptFailure{err: apiErr}
	switch {
	case ex.status == http.StatusTooManyRequests:
		f.retryable = true
		f.retryAfter = parseRetryAfter(ex.header.Get("Retry-After"))
	case ex.status >= 500:
		f.retryable = true
		// Unkey's own 500 means its transaction rolled back; a gateway's
		// 502/504, or any 5xx that is not Unkey's error object, may
		// hide a request that was carried out.
		f.mayHaveTakenEffect = ex.status == http.StatusBadGateway || ex.status == http.StatusGatewayTimeout || apiErr.Type == ""
	case !fromUnkey:
		f.err = &NotUnkeyError{Operation: op, Status: ex.status, Server: c.server(), BodyStart: apiErr.Body}
	}
	return f
}

// permanentTransportFailure says why a failure to get an answer cannot heal
// by retrying (a name that does not resolve, a certificate that is not
// valid, a server that does not speak TLS), or "" when it may heal.
func permanentTransportFailure(err error) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var record tls.RecordHeaderError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "The host name does not resolve: check the API URL. Not retried"
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalidCert):
		return "The server's TLS certificate is not valid for this URL: check the API URL " +
			"(behind a proxy that intercepts TLS, add its certificate authority to the system's trust store). Not retried"
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "The server does not speak TLS: check the API URL's scheme and port. Not retried"
	}
	return ""
}

// parseRetryAfter reads delay-seconds or an HTTP date; zero when absent.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
