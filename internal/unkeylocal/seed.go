package unkeylocal

import (
	"net/http/httptest"
	"testing"
)

// AddWorkspace creates a workspace (the other seeding helpers create theirs
// on demand).
func (s *Server) AddWorkspace(workspaceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workspaceLocked(workspaceID)
}

// AddRootKey creates a root key in a workspace with permission strings such
// as "api.*.create_key" or "api.api_123.read_key"; "*" allows everything.
//
// Adding an existing root key replaces it one request late, as on Unkey,
// whose server answers the next request of that root key from its cached
// copy: the first request after the change still sees the old permissions.
// Tests that need a change at once use a new root key.
func (s *Server) AddRootKey(workspaceID, key string, permissions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workspaceLocked(workspaceID)
	perms := make(map[string]bool, len(permissions))
	for _, p := range permissions {
		perms[p] = true
	}
	rk := &rootKey{workspace: workspaceID, permissions: perms}
	if cached := s.rootKeys[key]; cached != nil {
		cached.next = rk
		return
	}
	s.rootKeys[key] = rk
}

// AddAPI creates an API with a chosen ID. Adding an existing ID renames it
// and moves it to the workspace, keeping its keys.
func (s *Server) AddAPI(workspaceID, apiID, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workspaceLocked(workspaceID)
	if a := s.apis[apiID]; a != nil {
		a.name, a.workspace, a.deleted = name, workspaceID, false
		return
	}
	s.apis[apiID] = &apiRec{id: apiID, name: name, workspace: workspaceID, keys: map[string]*keyRec{}}
}

// SetAPIDeleteProtection turns an API's delete protection on or off.
func (s *Server) SetAPIDeleteProtection(apiID string, protected bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apis[apiID]; a != nil {
		a.deleteProtected = protected
	}
}

// AddMigration creates a migration of a workspace with a hash algorithm,
// AlgorithmSHA256 or AlgorithmSeamPrefixed (migrations are set up by Unkey
// support and cannot be made through the API).
func (s *Server) AddMigration(workspaceID, migrationID, algorithm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workspaceLocked(workspaceID)
	s.migrations[migrationID] = &migrationRec{id: migrationID, workspace: workspaceID, algorithm: algorithm}
}

// AddRole creates a role in a workspace (keys.setRoles and keys.updateKey
// only accept existing roles; keys.migrateKeys creates them).
func (s *Server) AddRole(workspaceID, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workspaceLocked(workspaceID).role(name)
}

// SetRateLimit limits a workspace to perMinute authenticated requests per
// fixed one-minute window; 0 lifts the limit.
func (s *Server) SetRateLimit(workspaceID string, perMinute int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.workspaceLocked(workspaceID)
	ws.rateLimit = perMinute
	ws.windowCount = 0
}

// Seed names what SeedDefault created.
type Seed struct{ WorkspaceID, RootKey, APIID, MigrationID, SeamMigrationID string }

// DefaultSeed is what SeedDefault creates. The root key is a fake, local
// credential.
var DefaultSeed = Seed{
	WorkspaceID:     "ws_local",
	RootKey:         "unkey_local_root_3ZbkVYx8qD2nTf7LmW9pRc",
	APIID:           "api_local",
	MigrationID:     "mig_local_sha256",
	SeamMigrationID: "mig_local_seam",
}

// SeedDefault creates DefaultSeed: one workspace, a root key holding "*", an
// API named "local", a sha256 migration and a seamapi migration.
func (s *Server) SeedDefault() Seed {
	d := DefaultSeed
	s.AddWorkspace(d.WorkspaceID)
	s.AddRootKey(d.WorkspaceID, d.RootKey, "*")
	s.AddAPI(d.WorkspaceID, d.APIID, "local")
	s.AddMigration(d.WorkspaceID, d.MigrationID, AlgorithmSHA256)
	s.AddMigration(d.WorkspaceID, d.SeamMigrationID, AlgorithmSeamPrefixed)
	return d
}

// StartTestServer serves a new, empty server on 127.0.0.1 for the duration
// of a test and returns it with its base URL.
func StartTestServer(t testing.TB, opts Options) (*Server, string) {
	t.Helper()
	s := NewServer(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}
