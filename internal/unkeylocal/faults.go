package unkeylocal

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FaultKind is what an injected fault does.
type FaultKind int

// The faults the server can inject.
const (
	// FaultStatus answers Status with an Unkey problem body (or Body, with
	// ContentType, when Body is set) without processing the request.
	FaultStatus FaultKind = iota
	// FaultRateLimit answers 429 with Retry-After: RetryAfterSeconds and the
	// Ratelimit-* headers, without processing the request.
	FaultRateLimit
	// FaultDropBeforeProcessing closes the connection without processing
	// the request or answering.
	FaultDropBeforeProcessing
	// FaultDropAfterProcessing processes the request fully (it is
	// committed), then closes the connection without answering.
	FaultDropAfterProcessing
	// FaultStatusAfterProcessing processes the request fully, then answers
	// Status (a problem body, or Body) instead of the real answer.
	FaultStatusAfterProcessing
	// FaultDelay waits Delay (or until the client gives up), then processes
	// the request normally.
	FaultDelay
	// FaultRawResponse answers Status with ContentType and Body verbatim,
	// without processing the request (malformed JSON, HTML pages, ...).
	FaultRawResponse
)

func (k FaultKind) String() string {
	switch k {
	case FaultStatus:
		return "FaultStatus"
	case FaultRateLimit:
		return "FaultRateLimit"
	case FaultDropBeforeProcessing:
		return "FaultDropBeforeProcessing"
	case FaultDropAfterProcessing:
		return "FaultDropAfterProcessing"
	case FaultStatusAfterProcessing:
		return "FaultStatusAfterProcessing"
	case FaultDelay:
		return "FaultDelay"
	case FaultRawResponse:
		return "FaultRawResponse"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault is one injection rule. Rules are matched in the order they were
// added against each request's path (an empty Path matches every path); a
// rule lets the first Skip matching requests through, then fires for Times
// requests (0 = forever). A request that a rule skips can still be caught by
// a later rule.
type Fault struct {
	Path              string
	Kind              FaultKind
	Status            int
	RetryAfterSeconds int
	Delay             time.Duration
	ContentType       string
	Body              []byte
	Skip, Times       int
}

type faultRule struct {
	Fault
	seen, fired int
}

// InjectFault adds a rule after the existing ones.
func (s *Server) InjectFault(f Fault) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = append(s.faults, &faultRule{Fault: f})
}

// ClearFaults removes every rule.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = nil
}

func (s *Server) matchFault(path string) *Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for _, r := range s.faults {
		if (r.Path != "" && r.Path != path) || (r.Times > 0 && r.fired >= r.Times) {
			continue
		}
		r.seen++
		if r.seen <= r.Skip {
			continue
		}
		r.fired++
		f := r.Fault
		return &f
	}
	return nil
}

// serveFault answers a request a fault caught. w records the status; raw is
// the connection's own writer, for hijacking.
func (s *Server) serveFault(w http.ResponseWriter, raw http.ResponseWriter, in *incoming, f *Fault) {
	switch f.Kind {
	case FaultStatus:
		faultAnswer(w, f)
	case FaultRateLimit:
		reset := time.Now().Add(time.Duration(f.RetryAfterSeconds) * time.Second)
		p := rateLimited(100, reset)
		p.header.Set("Retry-After", itoa(f.RetryAfterSeconds))
		writeProblem(w, p)
	case FaultDropBeforeProcessing:
		drop(raw)
	case FaultDropAfterProcessing:
		s.process(&captureWriter{}, in)
		drop(raw)
	case FaultStatusAfterProcessing:
		s.process(&captureWriter{}, in)
		faultAnswer(w, f)
	case FaultDelay:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			s.process(w, in)
		case <-in.r.Context().Done():
		}
	case FaultRawResponse:
		writeRaw(w, statusOr(f.Status, 200), f.ContentType, f.Body)
	default:
		s.process(w, in)
	}
}

func faultAnswer(w http.ResponseWriter, f *Fault) {
	status := statusOr(f.Status, 500)
	if f.Body != nil {
		ct := f.ContentType
		if ct == "" {
			ct = "application/json"
		}
		writeRaw(w, status, ct, f.Body)
		return
	}
	writeProblem(w, problemFor(status, fmt.Sprintf("Injected fault: %d %s.", status, http.StatusText(status))))
}

func statusOr(status, def int) int {
	if status == 0 {
		return def
	}
	return status
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2: abort the stream instead.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// NonUnkeyPage is the page a server made to answer as a non-Unkey server
// (ImpersonateNonUnkey) sends for every path.
const NonUnkeyPage = "<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n"

// ImpersonateNonUnkey makes the server answer every request as a web
// server that is not Unkey would, as when api_url points at the wrong host:
// 200 with NonUnkeyPage (text/html) for every path, and at /v2/liveness a
// plain 404 without Unkey's envelope. Nothing is processed. ClearFaults
// ends it.
func (s *Server) ImpersonateNonUnkey() {
	s.InjectFault(Fault{Path: livenessPath, Kind: FaultRawResponse, Status: http.StatusNotFound,
		ContentType: "text/plain; charset=utf-8", Body: []byte("404 page not found\n")})
	s.InjectFault(Fault{Kind: FaultRawResponse, Status: http.StatusOK,
		ContentType: "text/html; charset=utf-8", Body: []byte(NonUnkeyPage)})
}

// UnreachableURL returns a loopback base URL that nothing listens on: a
// connection to it is refused. The port was free a moment ago and the
// system hands free ports out in turn, so another listener taking it
// during a test is unlikely.
func UnreachableURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return url
}

// StartStoppableTestServer is StartTestServer with a stop function that
// closes the listener (waiting for requests in flight): from then on the
// URL refuses connections, as an Unkey that went away would.
func StartStoppableTestServer(t testing.TB, opts Options) (*Server, string, func()) {
	t.Helper()
	s := NewServer(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL, ts.Close
}
