package unkeylocal

import "testing"

func TestSeedDefault(t *testing.T) {
	s := NewServer(Options{})
	seed := s.SeedDefault()
	if seed != DefaultSeed {
		t.Fatalf("%+v", seed)
	}
	if again := s.SeedDefault(); again != seed {
		t.Fatal("SeedDefault is not deterministic")
	}
	rk := s.rootKeys[seed.RootKey]
	if rk == nil || rk.workspace != seed.WorkspaceID || !rk.has("api.anything.create_key") {
		t.Fatalf("root key %+v", rk)
	}
	if a := s.apis[seed.APIID]; a == nil || a.workspace != seed.WorkspaceID || a.name != "local" {
		t.Fatalf("api %+v", a)
	}
	if m := s.migrations[seed.MigrationID]; m == nil || m.algorithm != AlgorithmSHA256 {
		t.Fatalf("migration %+v", m)
	}
	if m := s.migrations[seed.SeamMigrationID]; m == nil || m.algorithm != AlgorithmSeamPrefixed || m.workspace != seed.WorkspaceID {
		t.Fatalf("seam migration %+v", m)
	}
	// The seeded API ID passes apis.getApi's stricter schema (8+ characters).
	if p := validateBody(getAPISchema(), map[string]any{"apiId": seed.APIID}); p != nil {
		t.Errorf("%s: %s", seed.APIID, p.detail)
	}
}

func TestStartTestServerIsEmpty(t *testing.T) {
	s, url := StartTestServer(t, Options{})
	if url == "" || s.KeyCount() != 0 || len(s.rootKeys) != 0 || len(s.Requests()) != 0 {
		t.Fatal("not a fresh server")
	}
}
