package unkeylocal

import (
	"net/http/httptest"
	"slices"
	"sort"
	"testing"
)

// AddWorkspace creates a workspace.
func (s *Server) AddWorkspace(workspaceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workspaces[workspaceID] = true
}

// AddRootKey creates a root key in a workspace with the given permissions,
// such as "api.*.create_key"; "*" allows everything.
func (s *Server) AddRootKey(workspaceID, rootKeyValue string, permissions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	perms := map[string]bool{}
	for _, p := range permissions {
		perms[p] = true
	}
	s.rootKeys[rootKeyValue] = &rootKey{workspace: workspaceID, permissions: perms}
}

// AddAPI creates an API with a chosen ID.
func (s *Server) AddAPI(workspaceID, apiID, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apis[apiID] = &api{ID: apiID, Name: name, workspace: workspaceID}
}

// SetAPIDeleteProtection turns an API's delete protection on or off.
func (s *Server) SetAPIDeleteProtection(apiID string, protected bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apis[apiID]; a != nil {
		a.deleteProtected = protected
	}
}

// AddMigration creates a migration with a hash algorithm.
func (s *Server) AddMigration(workspaceID, migrationID, algorithm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.migrations[migrationID] = &migrationDef{workspace: workspaceID, algorithm: algorithm}
}

// SetRateLimit limits a workspace to perMinute requests per fixed minute; 0 lifts it.
func (s *Server) SetRateLimit(workspaceID string, perMinute int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimits[workspaceID] = perMinute
}

// Seed names what SeedDefault created.
type Seed struct{ WorkspaceID, RootKey, APIID, MigrationID, SeamMigrationID string }

// DefaultSeed is the workspace SeedDefault creates. The root key is a local,
// fake credential.
var DefaultSeed = Seed{
	WorkspaceID:     "ws_local",
	RootKey:         "unkey_local_root_3ZbkVYx8qD2nTf7LmW9pRc",
	APIID:           "api_local",
	MigrationID:     "mig_local_sha256",
	SeamMigrationID: "mig_local_seam",
}

// SeedDefault creates one workspace with an all-powerful root key, an API, a
// sha256 migration and a seamapi migration.
func (s *Server) SeedDefault() Seed {
	d := DefaultSeed
	s.AddWorkspace(d.WorkspaceID)
	s.AddRootKey(d.WorkspaceID, d.RootKey, "*")
	s.AddAPI(d.WorkspaceID, d.APIID, "local")
	s.AddMigration(d.WorkspaceID, d.MigrationID, AlgorithmSHA256)
	s.AddMigration(d.WorkspaceID, d.SeamMigrationID, AlgorithmSeamPrefixed)
	return d
}

// Requests returns every request received, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RequestsTo returns the requests received for one path.
func (s *Server) RequestsTo(path string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// KeyByHash returns the key holding a hash, soft-deleted ones included.
func (s *Server) KeyByHash(hash string) (Key, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byHash[hash]
	if !ok {
		return Key{}, false
	}
	return k.clone(), true
}

// KeyByID returns a key by ID, soft-deleted ones included.
func (s *Server) KeyByID(id string) (Key, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok {
		return Key{}, false
	}
	return k.clone(), true
}

// Keys returns the live keys of an API, by ID.
func (s *Server) Keys(apiID string) []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Key
	for _, k := range s.keys {
		if k.APIID == apiID && !k.Deleted {
			out = append(out, k.clone())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// StartTestServer serves a new server on a loopback port for the test.
func StartTestServer(t testing.TB, opts Options) (*Server, string) {
	t.Helper()
	s := NewServer(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}
