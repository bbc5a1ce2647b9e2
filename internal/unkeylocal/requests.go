package unkeylocal

import (
	"net/http"
	"strconv"
)

// Request is one request the server received.
type Request struct {
	Path   string // e.g. "/v2/keys.migrateKeys"
	Method string
	// Status is the status written, recorded before the answer is sent; 0
	// if the connection was dropped or the answer never written.
	Status int
	// Hashes are the hashes in a keys.migrateKeys body, in order.
	Hashes []string
	// KeyID is the body's keyId, for the key endpoints that take one.
	KeyID string
	// Body is the raw body; nil when it was over the size cap.
	Body []byte
	// Authorization is the raw header value, for tests that check it is
	// sent. Tests must never print it.
	Authorization string
	UserAgent     string
}

// record adds a request to the log, in arrival order.
func (s *Server) record(r *http.Request, in *incoming) *Request {
	rec := &Request{
		Path: r.URL.Path, Method: r.Method, Body: in.body,
		Authorization: r.Header.Get("Authorization"), UserAgent: r.Header.Get("User-Agent"),
	}
	if m, ok := in.tree.(map[string]any); ok {
		rec.KeyID, _ = m["keyId"].(string)
		if r.URL.Path == "/v2/keys.migrateKeys" {
			if keys, ok := m["keys"].([]any); ok {
				rec.Hashes = make([]string, 0, len(keys))
				for _, k := range keys {
					if km, ok := k.(map[string]any); ok {
						if h, ok := km["hash"].(string); ok {
							rec.Hashes = append(rec.Hashes, h)
						}
					}
				}
			}
		}
	}
	s.reqMu.Lock()
	s.requests = append(s.requests, rec)
	s.reqMu.Unlock()
	return rec
}

func (s *Server) setStatus(rec *Request, status int) {
	s.reqMu.Lock()
	rec.Status = status
	s.reqMu.Unlock()
}

// Requests returns a copy of every request received, in arrival order.
func (s *Server) Requests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = *r
	}
	return out
}

// RequestsTo returns the requests received for one path, in arrival order.
func (s *Server) RequestsTo(path string) []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if r.Path == path {
			out = append(out, *r)
		}
	}
	return out
}

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	s.requests = nil
}

// recorder notes the status of the answer in the request log before the
// answer goes out, so a client never sees an answer its log entry lacks.
type recorder struct {
	http.ResponseWriter
	s     *Server
	rec   *Request
	wrote bool
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.wrote = true
		r.s.setStatus(r.rec, status)
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

// captureWriter takes an answer that must not be sent.
type captureWriter struct {
	header http.Header
	status int
}

func (c *captureWriter) Header() http.Header {
	if c.header == nil {
		c.header = http.Header{}
	}
	return c.header
}
func (c *captureWriter) Write(b []byte) (int, error) { return len(b), nil }
func (c *captureWriter) WriteHeader(status int)      { c.status = status }

func itoa(i int) string     { return strconv.Itoa(i) }
func itoa64(i int64) string { return strconv.FormatInt(i, 10) }
