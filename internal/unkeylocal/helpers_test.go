package unkeylocal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// env is a running server with the default seed, for the tests.
type env struct {
	t    *testing.T
	srv  *Server
	url  string
	seed Seed
}

func newEnv(t *testing.T, opts ...Options) *env {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	srv, url := StartTestServer(t, o)
	return &env{t: t, srv: srv, url: url, seed: srv.SeedDefault()}
}

// answer is a decoded answer.
type answer struct {
	Status int
	Header http.Header
	Raw    []byte
	// Envelope fields.
	Meta struct {
		RequestID string `json:"requestId"`
	} `json:"meta"`
	Data  json.RawMessage `json:"data"`
	Error *struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Status int    `json:"status"`
		Type   string `json:"type"`
		Errors []struct {
			Location string `json:"location"`
			Message  string `json:"message"`
		} `json:"errors"`
	} `json:"error"`
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.Status, a.Raw) }

// post sends a body (a string or bytes verbatim, anything else as JSON) with
// the seeded root key.
func (e *env) post(path string, body any) answer {
	e.t.Helper()
	return e.postAs("Bearer "+e.seed.RootKey, path, body)
}

func (e *env) postAs(authorization, path string, body any) answer {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, e.url+path, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) answer {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s: %v", req.URL.Path, err)
	}
	defer func() { _ = res.Body.Close() }()
	a := answer{Status: res.StatusCode, Header: res.Header}
	if a.Raw, err = io.ReadAll(res.Body); err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(a.Raw, &a); err != nil {
		e.t.Fatalf("%s: answer is not JSON: %v: %s", req.URL.Path, err, a.Raw)
	}
	if !strings.HasPrefix(a.Meta.RequestID, "req_") {
		e.t.Errorf("%s: requestId %q", req.URL.Path, a.Meta.RequestID)
	}
	wantCT := "application/json"
	if a.Status >= 400 {
		wantCT = "application/problem+json"
	}
	if ct := res.Header.Get("Content-Type"); ct != wantCT {
		e.t.Errorf("%s: Content-Type %q, want %q", req.URL.Path, ct, wantCT)
	}
	return a
}

// ok asserts a 200 and decodes data into v.
func (a answer) ok(t *testing.T, v any) {
	t.Helper()
	if a.Status != 200 {
		t.Fatalf("want 200, got %s", a)
	}
	if v != nil {
		if err := json.Unmarshal(a.Data, v); err != nil {
			t.Fatalf("data: %v: %s", err, a.Data)
		}
	}
}

// problem asserts an error answer's status and type, and returns its detail.
func (a answer) problem(t *testing.T, status int, typ string) string {
	t.Helper()
	if a.Status != status || a.Error == nil || a.Error.Type != typ || a.Error.Status != status || a.Error.Title == "" {
		t.Fatalf("want %d %s, got %s", status, typ, a)
	}
	return a.Error.Detail
}

type migrated struct {
	Migrated []struct {
		Hash  string `json:"hash"`
		KeyID string `json:"keyId"`
	} `json:"migrated"`
	Failed []string `json:"failed"`
}

// migrate migrates keys (maps) into the seeded API and migration.
func (e *env) migrate(keys ...map[string]any) migrated {
	e.t.Helper()
	var out migrated
	e.post("/v2/keys.migrateKeys", map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID, "keys": keys}).ok(e.t, &out)
	return out
}

// migrateRaw migrates keys given by their raw values with the native hash.
func (e *env) migrateRaw(raws ...string) []string {
	e.t.Helper()
	keys := make([]map[string]any, len(raws))
	for i, r := range raws {
		keys[i] = map[string]any{"hash": NativeHash(r)}
	}
	res := e.migrate(keys...)
	ids := make([]string, len(res.Migrated))
	for i, m := range res.Migrated {
		ids[i] = m.KeyID
	}
	return ids
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
