package unkeylocal

import (
	"fmt"
	"net/http"
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
