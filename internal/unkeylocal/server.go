// Package unkeylocal is an in-memory HTTP server that speaks Unkey's API for
// the endpoints the provider uses, with Unkey's envelopes, RFC 7807 errors,
// request validation and the real server's quirks (see
// shared/UNKEY-API-NOTES.md), plus fault injection and inspection helpers for
// tests. The tests, the demo and cmd/unkey-local run against it.
//
// Requests go through the stages of the real server, in its order: route
// (404), Authorization header format (400), body read and JSON schema
// validation (400), root key (401), workspace rate limit (429), then the
// endpoint's own checks (403, 404, ...).
//
// Behaviours worth knowing, all taken from Unkey's server:
//   - keys.migrateKeys answers 200 on partial success; "failed" is null when
//     nothing failed. Hashes are unique across all workspaces, soft-deleted
//     keys included; a new hash twice in one request is a 500 and nothing of
//     the request is stored.
//   - keys.setRoles and keys.updateKey only accept roles that exist in the
//     workspace (404 role_not_found otherwise); keys.migrateKeys creates
//     them, and so can AddRole. Permissions and identities are created on
//     the fly everywhere.
//   - keys.updateKey rejects "ratelimits": null (the schema says array);
//     [] removes every rate limit. See Options.AcceptNullRatelimits.
//   - Error bodies are application/problem+json, which Unkey's Go SDK only
//     decodes for 429s; other errors reach SDK users as *apierrors.APIError
//     with the problem in Body.
//
// Where Unkey's server and this one could differ, this one is at least as
// strict, so that what passes here passes against Unkey:
//   - Every endpoint checks the permissions of one table,
//     endpointPermissions (api.<apiId>.X or api.*.X, rbac.*.X, ...); a root
//     key missing one gets 403 "Missing one of these permissions: ...",
//     except keys.verifyKey (200 NOT_FOUND) and apis.listKeys (404
//     api_not_found). What a request needs for what it does on top (a new
//     permission, permissions for a new role, decrypt) is in the same
//     table. A changed root key (AddRootKey again) keeps its old
//     permissions for one more request, as Unkey's cached copy does.
//   - Everything of another workspace is answered exactly as a thing that
//     does not exist (404 api_not_found, key_not_found, migration_not_found).
//   - A key's roles, permissions and rate limits come back in a new order
//     in every keys.getKey, keys.verifyKey and apis.listKeys answer, and so
//     do a role's permissions and an identity's rate limits
//     (Options.ShuffleSeed makes the orders reproducible).
//   - meta numbers (of keys and identities) go through float64: 1e3 comes
//     back 1000, 1.50 as 1.5, 9007199254740993 as 9007199254740992.
//   - A wrong Content-Type is a 400 invalid_input with one errors entry; a
//     migrated key's start stays "" after verification.
//   - Options.Latency (UnkeyLatency) makes requests cost Unkey's time and
//     wait in line for one of two slots; off by default.
//
// For tests of a misconfigured or absent Unkey: GET /v2/liveness answers
// as Unkey's does (no root key needed); ImpersonateNonUnkey makes the server
// answer as a web server that is not Unkey (an HTML page everywhere, a bare
// 404 at /v2/liveness); UnreachableURL is a loopback URL nothing listens on,
// and StartStoppableTestServer's stop function makes a server go away.
package unkeylocal

import (
	"errors"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// MaxBodyBytes is the largest request body accepted; 0 means 10 MiB,
	// Unkey's default cap.
	MaxBodyBytes int64

	// ShuffleSeed seeds the order in which the lists of an answer (a key's
	// roles, permissions and rate limits, a role's permissions, an
	// identity's rate limits) come back (always shuffled, as Unkey promises
	// no order);
	// 0 picks a random seed. Set it to make a failing test reproducible.
	ShuffleSeed uint64

	// Latency makes requests take time and wait in line like on Unkey's
	// server (UnkeyLatency); the zero value answers at once.
	Latency Latency

	// AcceptNullRatelimits makes keys.updateKey accept "ratelimits": null and
	// clear the key's rate limits. Unkey's OpenAPI schema types ratelimits as
	// an array (not nullable), so the real server's validator rejects null
	// with a 400; send [] to remove every rate limit. Off by default.
	AcceptNullRatelimits bool
}

// DefaultMaxBodyBytes is Unkey's default request body cap.
const DefaultMaxBodyBytes = 10 << 20

// Migration hash algorithms.
const (
	AlgorithmSHA256       = "sha256"
	AlgorithmSeamPrefixed = "github.com/seamapi/prefixed-api-key"
)

// Server is a local Unkey. It is safe for concurrent use.
type Server struct {
	maxBody int64
	routes  map[string]route
	latency *latencyGate // nil: no latency model

	mu         sync.RWMutex // guards the data below
	workspaces map[string]*workspace
	rootKeys   map[string]*rootKey // by the root key itself
	apis       map[string]*apiRec
	migrations map[string]*migrationRec
	keys       map[string]*keyRec // by ID, soft-deleted keys included
	byHash     map[string]*keyRec // every stored hash, soft-deleted keys included

	reqMu    sync.Mutex
	requests []*Request

	faultMu sync.Mutex
	faults  []*faultRule

	shuffleMu sync.Mutex
	shuffler  *rand.Rand
}

type route struct {
	schema  *schema
	handler func(*Server, *call) (any, *problem)
}

// call is one authenticated, validated request.
type call struct {
	rk   *rootKey
	body map[string]any
	path string
}

// NewServer returns a server with an empty store.
func NewServer(opts Options) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s := &Server{
		maxBody:    opts.MaxBodyBytes,
		workspaces: map[string]*workspace{},
		rootKeys:   map[string]*rootKey{},
		apis:       map[string]*apiRec{},
		migrations: map[string]*migrationRec{},
		keys:       map[string]*keyRec{},
		byHash:     map[string]*keyRec{},
		shuffler:   newShuffler(opts.ShuffleSeed),
		latency:    newLatencyGate(opts.Latency),
	}
	s.routes = map[string]route{
		"/v2/keys.migrateKeys":    {migrateKeysSchema(), (*Server).migrateKeys},
		"/v2/keys.getKey":         {getKeySchema(), (*Server).getKey},
		"/v2/keys.updateKey":      {updateKeySchema(opts.AcceptNullRatelimits), (*Server).updateKey},
		"/v2/keys.setRoles":       {setRolesSchema(), (*Server).setRoles},
		"/v2/keys.setPermissions": {setPermissionsSchema(), (*Server).setPermissions},
		"/v2/keys.deleteKey":      {deleteKeySchema(), (*Server).deleteKey},
		"/v2/keys.verifyKey":      {verifyKeySchema(), (*Server).verifyKey},
		"/v2/apis.createApi":      {createAPISchema(), (*Server).createAPI},
		"/v2/apis.getApi":         {getAPISchema(), (*Server).getAPI},
		"/v2/apis.deleteApi":      {deleteAPISchema(), (*Server).deleteAPI},
		"/v2/apis.listKeys":       {listKeysSchema(), (*Server).listKeys},
		"/v2/keys.createKey":      {createKeySchema(), (*Server).createKey},

		"/v2/permissions.createPermission":   {createPermissionSchema(), (*Server).createPermission},
		"/v2/permissions.getPermission":      {permissionRefSchema(), (*Server).getPermission},
		"/v2/permissions.deletePermission":   {permissionRefSchema(), (*Server).deletePermission},
		"/v2/permissions.createRole":         {createRoleSchema(), (*Server).createRole},
		"/v2/permissions.getRole":            {roleRefSchema(), (*Server).getRole},
		"/v2/permissions.deleteRole":         {roleRefSchema(), (*Server).deleteRole},
		"/v2/permissions.setRolePermissions": {setRolePermissionsSchema(), (*Server).setRolePermissions},
		"/v2/identities.createIdentity":      {createIdentitySchema(), (*Server).createIdentity},
		"/v2/identities.getIdentity":         {identityRefSchema(), (*Server).getIdentity},
		"/v2/identities.updateIdentity":      {updateIdentitySchema(), (*Server).updateIdentity},
		"/v2/identities.deleteIdentity":      {identityRefSchema(), (*Server).deleteIdentity},
	}
	return s
}

// incoming is a request whose body has been read.
type incoming struct {
	r        *http.Request
	body     []byte
	tooBig   bool
	readErr  error
	tree     any // the parsed body, when it is JSON
	parseErr error
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in := &incoming{r: r}
	// Like Unkey, read the body through http.MaxBytesReader: past the cap
	// the connection is closed after the answer, so a client still sending
	// may see the connection reset instead of the 400.
	in.body, in.readErr = io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	var maxErr *http.MaxBytesError
	if errors.As(in.readErr, &maxErr) {
		in.tooBig, in.readErr, in.body = true, nil, nil
	}
	if in.readErr == nil && len(in.body) > 0 {
		in.tree, in.parseErr = parseJSON(in.body)
	}

	rec := s.record(r, in)
	rw := &recorder{ResponseWriter: w, s: s, rec: rec}
	if f := s.matchFault(r.URL.Path); f != nil {
		s.serveFault(rw, w, in, f)
		return
	}
	s.process(rw, in)
}

// process runs a request for real and writes the answer.
func (s *Server) process(w http.ResponseWriter, in *incoming) int { //nolint:unparam // the status written, as every writer here returns it
	r := in.r
	if r.URL.Path == livenessPath {
		return s.liveness(w, r)
	}
	rt, ok := s.routes[r.URL.Path]
	if !ok {
		return writeProblem(w, notFound(TypeRouteNotFound, "The requested route "+r.URL.Path+" does not exist."))
	}
	if r.Method != http.MethodPost {
		p := &problem{status: 405, title: "Method Not Allowed", detail: "The route " + r.URL.Path + " only accepts POST.", typ: TypeMethodNotAllowed}
		p.header = http.Header{"Allow": {http.MethodPost}}
		return writeProblem(w, p)
	}
	token, p := bearer(r.Header.Get("Authorization"))
	if p != nil {
		return writeProblem(w, p)
	}
	if p := checkContentType(r.Header.Get("Content-Type")); p != nil {
		return writeProblem(w, p)
	}
	switch {
	case in.readErr != nil:
		return writeProblem(w, badRequest("Failed to read request body"))
	case in.tooBig || len(in.body) == 0:
		// What Unkey answers to a body over its cap: it reads as empty.
		return writeProblem(w, badRequest(r.Method+" request body is empty for '"+r.URL.Path+"'",
			fieldError{Location: "body", Message: "The request body is empty but there is a schema defined", Fix: fix("Provide a request body in the expected format")}))
	case in.parseErr != nil:
		return writeProblem(w, badRequest("Invalid JSON in request body",
			fieldError{Location: "body", Message: in.parseErr.Error(), Fix: fix("Ensure the request body is valid JSON")}))
	}
	if p := validateBody(rt.schema, in.tree); p != nil {
		return writeProblem(w, p)
	}
	rk, p := s.authenticate(token)
	if p != nil {
		return writeProblem(w, p)
	}
	if p := s.checkRateLimit(rk.workspace); p != nil {
		return writeProblem(w, p)
	}
	body, _ := in.tree.(map[string]any) // validateBody has checked it is an object
	keys, _ := body["keys"].([]any)
	var data any
	served := s.latency.serve(r.Context(), len(keys), func() {
		data, p = rt.handler(s, &call{rk: rk, body: body, path: r.URL.Path})
	})
	if !served {
		return 0 // the client gave up waiting
	}
	if p != nil {
		return writeProblem(w, p)
	}
	return writeData(w, data)
}

const livenessPath = "/v2/liveness"

// liveness is GET /v2/liveness: no root key, {"data":{"message":"OK"}}.
func (s *Server) liveness(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodGet {
		p := &problem{status: 405, title: "Method Not Allowed", detail: "The route " + r.URL.Path + " only accepts GET.", typ: TypeMethodNotAllowed}
		p.header = http.Header{"Allow": {http.MethodGet}}
		return writeProblem(w, p)
	}
	return writeData(w, struct {
		Message string `json:"message"`
	}{"OK"})
}

// bearer checks the Authorization header's format. A missing header is a
// 400 invalid_input on Unkey, not a 401.
func bearer(header string) (string, *problem) {
	if header == "" {
		return "", badRequest("Authorization header is required but was not provided",
			fieldError{Location: "header.Authorization", Message: "missing required header", Fix: fix("Send Authorization: Bearer <root key>")})
	}
	const prefix = "bearer "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", &problem{status: 400, title: "Bad Request", detail: "Authorization header must use Bearer scheme", typ: TypeAuthMalformed}
	}
	token := strings.TrimSpace(header[len(prefix):])
	if token == "" {
		return "", &problem{status: 400, title: "Bad Request", detail: "Bearer credentials are empty", typ: TypeAuthMalformed}
	}
	return token, nil
}

func checkContentType(ct string) *problem {
	if ct == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return badRequest("Invalid Content-Type header", fieldError{Location: "header.Content-Type", Message: "Failed to parse Content-Type header: " + err.Error()})
	}
	if !strings.EqualFold(mediaType, "application/json") {
		return badRequest("Unsupported Content-Type: "+mediaType,
			fieldError{Location: "header.Content-Type", Message: "unsupported media type " + mediaType + ", want application/json", Fix: fix("Send Content-Type: application/json")})
	}
	return nil
}

// authenticate finds a root key. A changed root key is served as it was
// for one more request (Unkey's cached copy), then as changed.
func (s *Server) authenticate(token string) (*rootKey, *problem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rk, ok := s.rootKeys[token]
	if !ok {
		return nil, &problem{status: 401, title: "Unauthorized", detail: "The provided root key is invalid.", typ: TypeRootKeyNotFound}
	}
	if rk.next != nil {
		s.rootKeys[token] = rk.next
	}
	return rk, nil
}

// has reports whether the root key holds a permission; "*" holds them all.
func (rk *rootKey) has(perm string) bool {
	return rk.permissions["*"] || rk.permissions[perm]
}

// checkRateLimit counts a request against its workspace's fixed one-minute
// window.
func (s *Server) checkRateLimit(workspaceID string) *problem {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.workspaces[workspaceID]
	if ws == nil || ws.rateLimit <= 0 {
		return nil
	}
	now := time.Now()
	start := now.Truncate(time.Minute)
	if !ws.windowStart.Equal(start) {
		ws.windowStart, ws.windowCount = start, 0
	}
	ws.windowCount++
	if ws.windowCount <= ws.rateLimit {
		return nil
	}
	return rateLimited(ws.rateLimit, start.Add(time.Minute))
}

// rateLimited is the 429 of a workspace over its limit. Retry-After is in
// whole seconds, Ratelimit-Reset is the end of the window in Unix milliseconds.
func rateLimited(limit int, reset time.Time) *problem {
	retry := int(time.Until(reset).Seconds() + 0.999)
	if retry < 1 {
		retry = 1
	}
	return &problem{
		status: 429, title: "Too Many Requests", typ: TypeWorkspaceRateLimited,
		detail: "This workspace has exceeded its API rate limit. Please try again later.",
		header: http.Header{
			"Retry-After":         {itoa(retry)},
			"Ratelimit-Limit":     {itoa(limit)},
			"Ratelimit-Remaining": {"0"},
			"Ratelimit-Reset":     {itoa64(reset.UnixMilli())},
		},
	}
}
