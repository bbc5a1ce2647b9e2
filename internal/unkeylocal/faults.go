package unkeylocal

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// FaultKind is what an injected fault does.
type FaultKind int

// The faults the server can inject.
const (
	FaultStatus                FaultKind = iota // answer Status with a problem body (or Body) without processing
	FaultRateLimit                              // answer 429 with Retry-After without processing
	FaultDropBeforeProcessing                   // close the connection without processing
	FaultDropAfterProcessing                    // process (commit), then close the connection without answering
	FaultStatusAfterProcessing                  // process (commit), then answer Status instead of the real answer
	FaultDelay                                  // wait Delay, then process normally
	FaultRawResponse                            // answer Status with ContentType and Body verbatim, without processing
)

// Fault is one injection rule. It matches requests to Path, skips the first
// Skip of them, then fires for Times requests (0 = forever).
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

// InjectFault adds a rule; rules are matched in the order added.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultRule{Fault: f})
}

// ClearFaults removes every rule.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (s *Server) matchFault(path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.faults {
		if r.Path != path || (r.Times > 0 && r.fired >= r.Times) {
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

// applyFaultBefore handles the faults that replace processing; handled is
// false when the request must still be processed.
func (s *Server) applyFaultBefore(w http.ResponseWriter, r *http.Request, f *Fault) (status int, handled bool) {
	switch f.Kind {
	case FaultStatus:
		if f.Body != nil {
			return writeRaw(w, f.Status, f.ContentType, f.Body), true
		}
		return writeProblem(w, &problem{status: f.Status, title: http.StatusText(f.Status), detail: "injected fault",
			typ: errBase + "unkey/application/" + strings.ReplaceAll(strings.ToLower(http.StatusText(f.Status)), " ", "_")}), true
	case FaultRateLimit:
		w.Header().Set("Retry-After", fmt.Sprint(f.RetryAfterSeconds))
		w.Header().Set("Ratelimit-Limit", "100")
		w.Header().Set("Ratelimit-Remaining", "0")
		w.Header().Set("Ratelimit-Reset", fmt.Sprint(time.Now().Add(time.Duration(f.RetryAfterSeconds)*time.Second).UnixMilli()))
		return writeProblem(w, rateLimited()), true
	case FaultDropBeforeProcessing:
		return drop(w), true
	case FaultDelay:
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return 0, true
		}
	case FaultRawResponse:
		return writeRaw(w, f.Status, f.ContentType, f.Body), true
	}
	return 0, false
}

func (s *Server) applyFaultAfter(w http.ResponseWriter, f *Fault) int {
	if f.Kind == FaultDropAfterProcessing {
		return drop(w)
	}
	if f.Body != nil {
		return writeRaw(w, f.Status, f.ContentType, f.Body)
	}
	// What a gateway in front of Unkey says: not an Unkey problem object.
	return writeRaw(w, f.Status, "text/html", []byte(fmt.Sprintf("<html><body><h1>%d %s</h1></body></html>", f.Status, http.StatusText(f.Status))))
}

func writeRaw(w http.ResponseWriter, status int, contentType string, body []byte) int {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

func drop(w http.ResponseWriter) int {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
	return 0
}
