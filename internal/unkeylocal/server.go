// Package unkeylocal is an in-memory server that speaks Unkey's HTTP API for
// the endpoints the provider uses, with Unkey's envelopes, RFC 7807 errors
// and the real server's quirks (see shared/UNKEY-API-NOTES.md). The tests
// and the demo run against it; it can inject faults.
package unkeylocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	MaxBodyBytes int64 // 0 => 10 MiB, Unkey's default cap
}

// Algorithms a migration can have.
const (
	AlgorithmSHA256       = "sha256"
	AlgorithmSeamPrefixed = "github.com/seamapi/prefixed-api-key"
)

// Server is a local Unkey. It is safe for concurrent use.
type Server struct {
	maxBody int64

	mu         sync.Mutex
	workspaces map[string]bool
	rootKeys   map[string]*rootKey
	apis       map[string]*api
	migrations map[string]*migrationDef
	keys       map[string]*Key // by ID
	byHash     map[string]*Key // every key, soft-deleted ones too
	identities map[string]string
	requests   []Request
	faults     []*faultRule
	rateLimits map[string]int
	windows    map[string]*window
}

type rootKey struct {
	workspace   string
	permissions map[string]bool
}

type api struct {
	ID, Name, workspace string
	deleteProtected     bool
	deleted             bool
}

type migrationDef struct {
	workspace, algorithm string
}

type window struct {
	start time.Time
	count int
}

// NewServer returns an empty server.
func NewServer(opts Options) *Server {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 10 << 20
	}
	return &Server{
		maxBody:    opts.MaxBodyBytes,
		workspaces: map[string]bool{},
		rootKeys:   map[string]*rootKey{},
		apis:       map[string]*api{},
		migrations: map[string]*migrationDef{},
		keys:       map[string]*Key{},
		byHash:     map[string]*Key{},
		identities: map[string]string{},
		rateLimits: map[string]int{},
		windows:    map[string]*window{},
	}
}

// Request is one request the server received.
type Request struct {
	Path          string
	Status        int
	Hashes        []string
	KeyID         string
	Body          []byte
	Authorization string
	UserAgent     string
}

const errBase = "https://unkey.com/docs/errors/"

type problem struct {
	status int
	title  string
	detail string
	typ    string
	fields []fieldError
}

type fieldError struct {
	Location string `json:"location"`
	Message  string `json:"message"`
}

func (p *problem) Error() string { return p.detail }

func badRequest(detail string, fields ...fieldError) *problem {
	return &problem{status: 400, title: "Bad Request", detail: detail, typ: errBase + "unkey/application/invalid_input", fields: fields}
}

func notFound(kind, detail string) *problem {
	return &problem{status: 404, title: "Not Found", detail: detail, typ: errBase + "unkey/data/" + kind}
}

func internalError() *problem {
	return &problem{status: 500, title: "Internal Server Error", detail: "", typ: errBase + "unkey/application/unexpected_error"}
}

func requestID() string { return "req_" + randomID(16) }

const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func randomID(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeProblem(w http.ResponseWriter, p *problem) int {
	body := map[string]any{
		"meta": map[string]any{"requestId": requestID()},
		"error": func() map[string]any {
			e := map[string]any{"title": p.title, "detail": p.detail, "status": p.status, "type": p.typ}
			if p.status == 400 {
				fields := p.fields
				if fields == nil {
					fields = []fieldError{}
				}
				e["errors"] = fields
			}
			return e
		}(),
	}
	writeJSON(w, p.status, "application/problem+json", body)
	return p.status
}

func writeData(w http.ResponseWriter, data any) int {
	body := map[string]any{"meta": map[string]any{"requestId": requestID()}, "data": data}
	if page, ok := data.(listPage); ok {
		body["data"] = page.data
		pagination := map[string]any{"hasMore": page.hasMore}
		if page.hasMore {
			pagination["cursor"] = page.cursor
		}
		body["pagination"] = pagination
	}
	writeJSON(w, 200, "application/json", body)
	return 200
}

type handler func(s *Server, rk *rootKey, body []byte) (any, *problem)

var routes = map[string]handler{
	"/v2/keys.migrateKeys":    (*Server).migrateKeys,
	"/v2/keys.getKey":         (*Server).getKey,
	"/v2/keys.updateKey":      (*Server).updateKey,
	"/v2/keys.setRoles":       (*Server).setRoles,
	"/v2/keys.setPermissions": (*Server).setPermissions,
	"/v2/keys.deleteKey":      (*Server).deleteKey,
	"/v2/keys.verifyKey":      (*Server).verifyKey,
	"/v2/apis.createApi":      (*Server).createAPI,
	"/v2/apis.getApi":         (*Server).getAPI,
	"/v2/apis.deleteApi":      (*Server).deleteAPI,
	"/v2/apis.listKeys":       (*Server).listKeys,
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := Request{Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), UserAgent: r.Header.Get("User-Agent")}
	body, tooBig, readErr := readBody(r, s.maxBody)
	rec.Body = body
	rec.Hashes, rec.KeyID = summarize(r.URL.Path, body)
	rec.Status = s.serve(w, r, body, tooBig, readErr)
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

func readBody(r *http.Request, limit int64) ([]byte, bool, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(body)) > limit {
		return nil, true, nil
	}
	return body, false, nil
}

func summarize(path string, body []byte) ([]string, string) {
	var v struct {
		KeyID string `json:"keyId"`
		Keys  []struct {
			Hash string `json:"hash"`
		} `json:"keys"`
	}
	_ = json.Unmarshal(body, &v)
	var hashes []string
	if path == "/v2/keys.migrateKeys" {
		for _, k := range v.Keys {
			hashes = append(hashes, k.Hash)
		}
	}
	return hashes, v.KeyID
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, body []byte, tooBig bool, readErr error) int {
	if f := s.matchFault(r.URL.Path); f != nil {
		if status, handled := s.applyFaultBefore(w, r, f); handled {
			return status
		}
		if f.Kind == FaultDropAfterProcessing || f.Kind == FaultStatusAfterProcessing {
			s.process(io.Discard, r, body, tooBig, readErr)
			return s.applyFaultAfter(w, f)
		}
	}
	return s.process(w, r, body, tooBig, readErr)
}

// process runs the request for real and writes the answer to w.
func (s *Server) process(w io.Writer, r *http.Request, body []byte, tooBig bool, readErr error) int {
	rw, ok := w.(http.ResponseWriter)
	if !ok {
		rw = &discardWriter{header: http.Header{}}
	}
	if r.Method != http.MethodPost {
		return writeProblem(rw, &problem{status: 405, title: "Method Not Allowed", detail: "use POST", typ: errBase + "unkey/application/invalid_input"})
	}
	h, ok := routes[r.URL.Path]
	if !ok {
		return writeProblem(rw, notFound("route_not_found", fmt.Sprintf("No route for %s", r.URL.Path)))
	}
	if readErr != nil {
		return writeProblem(rw, badRequest("could not read the request body"))
	}
	if tooBig {
		// Unkey's real answer to an oversized body is misleading like this.
		return writeProblem(rw, badRequest("request body is empty"))
	}
	rk, p := s.authenticate(r.Header.Get("Authorization"))
	if p != nil {
		return writeProblem(rw, p)
	}
	if p := s.checkRateLimit(rw, rk.workspace); p != nil {
		return writeProblem(rw, p)
	}
	data, p := h(s, rk, body)
	if p != nil {
		return writeProblem(rw, p)
	}
	return writeData(rw, data)
}

type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

func (s *Server) authenticate(header string) (*rootKey, *problem) {
	if header == "" {
		return nil, badRequest("Authorization header is required", fieldError{Location: "header.Authorization", Message: "missing"})
	}
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return nil, &problem{status: 400, title: "Bad Request", detail: "Authorization header must use the Bearer scheme", typ: errBase + "unkey/authentication/malformed"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rk, ok := s.rootKeys[strings.TrimSpace(token)]
	if !ok {
		return nil, &problem{status: 401, title: "Unauthorized", detail: "The provided root key is invalid. The requested key was not found.", typ: errBase + "unkey/authentication/key_not_found"}
	}
	return rk, nil
}

// allows reports whether the root key holds api.<apiID>.<action> or api.*.<action>.
func (rk *rootKey) allows(apiID, action string) bool {
	return rk.permissions["*"] || rk.permissions["api.*."+action] || rk.permissions["api."+apiID+"."+action]
}

func forbidden(apiID, action string) *problem {
	return &problem{status: 403, title: "Forbidden",
		detail: fmt.Sprintf("Missing one of these permissions: api.%s.%s or api.*.%s", apiID, action, action),
		typ:    errBase + "unkey/authorization/insufficient_permissions"}
}

func (s *Server) checkRateLimit(w http.ResponseWriter, workspace string) *problem {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := s.rateLimits[workspace]
	if limit == 0 {
		return nil
	}
	now := time.Now()
	win := s.windows[workspace]
	if win == nil || now.Sub(win.start) >= time.Minute {
		win = &window{start: now.Truncate(time.Minute)}
		s.windows[workspace] = win
	}
	win.count++
	reset := win.start.Add(time.Minute)
	w.Header().Set("Ratelimit-Limit", fmt.Sprint(limit))
	w.Header().Set("Ratelimit-Remaining", fmt.Sprint(max(limit-win.count, 0)))
	w.Header().Set("Ratelimit-Reset", fmt.Sprint(reset.UnixMilli()))
	if win.count <= limit {
		return nil
	}
	w.Header().Set("Retry-After", fmt.Sprint(int(time.Until(reset).Seconds())+1))
	return rateLimited()
}

func rateLimited() *problem {
	return &problem{status: 429, title: "Too Many Requests", detail: "Workspace rate limit exceeded. Retry after the time in Retry-After.",
		typ: errBase + "user/too_many_requests/workspace_rate_limited"}
}

// decode reads a JSON body strictly, as Unkey's schema validation does.
func decode(body []byte, v any) *problem {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return badRequest(fmt.Sprintf("additional properties %s not allowed", strings.ReplaceAll(name, `"`, "'")),
				fieldError{Location: "body", Message: fmt.Sprintf("additional properties %s not allowed", strings.ReplaceAll(name, `"`, "'"))})
		}
		var syn *json.SyntaxError
		if errors.As(err, &syn) || errors.Is(err, io.EOF) {
			return badRequest("request body is not valid JSON")
		}
		return badRequest("request body does not match the schema: "+msg, fieldError{Location: "body", Message: msg})
	}
	return nil
}

func (s *Server) nextID(prefix string) string { return prefix + randomID(16) }
