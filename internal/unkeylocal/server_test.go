package unkeylocal

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"keyId": "key_unknown"}
	for _, tc := range []struct {
		name, header string
		status       int
		typ, detail  string
	}{
		{"missing header", "", 400, TypeInvalidInput, "Authorization header is required but was not provided"},
		{"basic scheme", "Basic dXNlcjpwYXNz", 400, TypeAuthMalformed, "Authorization header must use Bearer scheme"},
		{"raw key", e.seed.RootKey, 400, TypeAuthMalformed, "Authorization header must use Bearer scheme"},
		// HTTP trims the trailing spaces, so this is a bare "Bearer".
		{"empty bearer", "Bearer   ", 400, TypeAuthMalformed, "Authorization header must use Bearer scheme"},
		{"unknown root key", "Bearer unkey_nope", 401, TypeRootKeyNotFound, "The provided root key is invalid."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.postAs(tc.header, "/v2/keys.getKey", body)
			if d := a.problem(t, tc.status, tc.typ); d != tc.detail {
				t.Errorf("detail %q", d)
			}
			if tc.status == 400 && a.Error.Errors == nil {
				t.Errorf("a 400 must carry an errors list: %s", a.Raw)
			}
			if tc.status != 400 && bytes.Contains(a.Raw, []byte(`"errors"`)) {
				t.Errorf("only 400s carry errors: %s", a.Raw)
			}
		})
	}
	// The scheme is case-insensitive.
	a := e.postAs("bearer "+e.seed.RootKey, "/v2/keys.getKey", body)
	a.problem(t, 404, TypeKeyNotFound)
}

func TestBearerWithoutCredentials(t *testing.T) {
	if _, p := bearer("Bearer \u00a0"); p == nil || p.detail != "Bearer credentials are empty" || p.typ != TypeAuthMalformed {
		t.Fatalf("%+v", p)
	}
	if tok, p := bearer("BEARER  abc "); p != nil || tok != "abc" {
		t.Fatalf("%q %+v", tok, p)
	}
}

func TestValidationComesBeforeTheRootKeyLookup(t *testing.T) {
	e := newEnv(t)
	// As on Unkey, the OpenAPI validation runs before the root key is looked up.
	a := e.postAs("Bearer unknown", "/v2/keys.getKey", map[string]any{"keyId": "k"})
	a.problem(t, 400, TypeInvalidInput)
}

func TestRouting(t *testing.T) {
	e := newEnv(t)
	a := e.post("/v2/keys.rerollKey", map[string]any{"keyId": "key_local"})
	a.problem(t, 404, TypeRouteNotFound)

	req, _ := http.NewRequest(http.MethodGet, e.url+"/v2/keys.getKey", nil)
	req.Header.Set("Authorization", "Bearer "+e.seed.RootKey)
	a = e.do(req)
	a.problem(t, 405, TypeMethodNotAllowed)
	if a.Header.Get("Allow") != "POST" {
		t.Errorf("Allow: %q", a.Header.Get("Allow"))
	}
}

func TestBodyProblems(t *testing.T) {
	e := newEnv(t, Options{MaxBodyBytes: 2048})
	// An empty body and a body over the cap get the same misleading answer.
	for _, tc := range []struct{ name, body string }{{"empty", ""}, {"over the cap", `{"keyId":"` + strings.Repeat("a", 4000) + `"}`}} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.post("/v2/keys.getKey", tc.body)
			if d := a.problem(t, 400, TypeInvalidInput); d != "POST request body is empty for '/v2/keys.getKey'" {
				t.Errorf("detail %q", d)
			}
		})
	}
	a := e.post("/v2/keys.getKey", `{"keyId":`)
	if d := a.problem(t, 400, TypeInvalidInput); d != "Invalid JSON in request body" || a.Error.Errors[0].Location != "body" {
		t.Errorf("%s", a)
	}
	a = e.post("/v2/keys.getKey", `{"keyId":"key_1"} trailing`)
	a.problem(t, 400, TypeInvalidInput)
	a = e.post("/v2/keys.getKey", `["keyId"]`)
	if d := a.problem(t, 400, TypeInvalidInput); d != "got array, want object" {
		t.Errorf("detail %q", d)
	}
	if got := e.srv.RequestsTo("/v2/keys.getKey"); got[1].Body != nil {
		t.Errorf("the body over the cap was kept: %d bytes", len(got[1].Body))
	}

	req, _ := http.NewRequest(http.MethodPost, e.url+"/v2/keys.getKey", strings.NewReader(`{"keyId":"key_1"}`))
	req.Header.Set("Authorization", "Bearer "+e.seed.RootKey)
	req.Header.Set("Content-Type", "text/plain")
	// Unkey answers 400 invalid_input with one errors entry, not 415.
	if a := e.do(req); a.problem(t, 400, TypeInvalidInput) != "Unsupported Content-Type: text/plain" || len(a.Error.Errors) != 1 || a.Error.Errors[0].Location != "header.Content-Type" {
		t.Errorf("%s", a)
	}

	// No Content-Type at all is accepted, and so is a charset parameter.
	for _, ct := range []string{"", "application/json; charset=utf-8"} {
		req, _ = http.NewRequest(http.MethodPost, e.url+"/v2/keys.getKey", strings.NewReader(`{"keyId":"key_1"}`))
		req.Header.Set("Authorization", "Bearer "+e.seed.RootKey)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		e.do(req).problem(t, 404, TypeKeyNotFound)
	}
}

func TestDefaultBodyCapIsTenMiB(t *testing.T) {
	if s := NewServer(Options{}); s.maxBody != 10<<20 {
		t.Fatalf("cap %d", s.maxBody)
	}
	e := newEnv(t)
	// Exactly at the cap is fine (it fails later, on the schema).
	body := `{"keyId":"key_1","x":"` + strings.Repeat("a", DefaultMaxBodyBytes-len(`{"keyId":"key_1","x":""}`)) + `"}`
	a := e.post("/v2/keys.getKey", body)
	if d := a.problem(t, 400, TypeInvalidInput); d != "additional properties 'x' not allowed" {
		t.Errorf("detail %q", d)
	}
}

func TestWorkspaceRateLimit(t *testing.T) {
	e := newEnv(t)
	// Seconds left in this minute must leave room for the test.
	if time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)) < 3*time.Second {
		time.Sleep(4 * time.Second)
	}
	e.srv.SetRateLimit(e.seed.WorkspaceID, 3)
	for i := 0; i < 3; i++ {
		e.post("/v2/apis.getApi", map[string]any{"apiId": e.seed.APIID}).ok(t, nil)
	}
	a := e.post("/v2/apis.getApi", map[string]any{"apiId": e.seed.APIID})
	a.problem(t, 429, TypeWorkspaceRateLimited)
	retry, err := strconv.Atoi(a.Header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 60 {
		t.Errorf("Retry-After %q", a.Header.Get("Retry-After"))
	}
	if a.Header.Get("Ratelimit-Limit") != "3" || a.Header.Get("Ratelimit-Remaining") != "0" {
		t.Errorf("headers %v", a.Header)
	}
	reset, err := strconv.ParseInt(a.Header.Get("Ratelimit-Reset"), 10, 64)
	if err != nil || reset%60000 != 0 || reset <= time.Now().UnixMilli() {
		t.Errorf("Ratelimit-Reset %q", a.Header.Get("Ratelimit-Reset"))
	}
	// Requests with an unknown root key do not count against a workspace.
	e.postAs("Bearer unknown", "/v2/apis.getApi", map[string]any{"apiId": e.seed.APIID}).problem(t, 401, TypeRootKeyNotFound)
	// Other workspaces are not limited.
	e.srv.AddRootKey("ws_other", "other_root", "*")
	e.postAs("Bearer other_root", "/v2/apis.getApi", map[string]any{"apiId": e.seed.APIID}).problem(t, 404, TypeAPINotFound)
	// Lifting the limit lets requests through again.
	e.srv.SetRateLimit(e.seed.WorkspaceID, 0)
	e.post("/v2/apis.getApi", map[string]any{"apiId": e.seed.APIID}).ok(t, nil)
}

func TestRequestLog(t *testing.T) {
	e := newEnv(t)
	h1, h2 := NativeHash("one"), NativeHash("two")
	body := map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID, "keys": []map[string]any{{"hash": h1}, {"hash": h2}}}
	req, _ := http.NewRequest(http.MethodPost, e.url+"/v2/keys.migrateKeys", strings.NewReader(mustJSON(t, body)))
	req.Header.Set("Authorization", "Bearer "+e.seed.RootKey)
	req.Header.Set("User-Agent", "terraform-provider-unkey/test")
	e.do(req).ok(t, nil)
	e.post("/v2/keys.getKey", map[string]any{"keyId": "key_123"})

	reqs := e.srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	m := reqs[0]
	if m.Path != "/v2/keys.migrateKeys" || m.Method != "POST" || m.Status != 200 || len(m.Hashes) != 2 || m.Hashes[0] != h1 || m.Hashes[1] != h2 {
		t.Errorf("%+v", m)
	}
	if m.UserAgent != "terraform-provider-unkey/test" || m.Authorization != "Bearer "+e.seed.RootKey || !bytes.Contains(m.Body, []byte(h1)) {
		t.Error("the user agent, authorization or body was not recorded")
	}
	if g := reqs[1]; g.KeyID != "key_123" || g.Status != 404 || g.Hashes != nil {
		t.Errorf("%+v", g)
	}
	if got := e.srv.RequestsTo("/v2/keys.getKey"); len(got) != 1 || got[0].KeyID != "key_123" {
		t.Errorf("RequestsTo: %+v", got)
	}
	// Copies: changing them does not change the log.
	reqs[0].Hashes[0] = "changed"
	if e.srv.Requests()[0].Status != 200 {
		t.Error("log changed")
	}
	e.srv.ResetRequests()
	if len(e.srv.Requests()) != 0 {
		t.Error("ResetRequests kept requests")
	}
}

func TestAnswersAreUnkeyEnvelopes(t *testing.T) {
	e := newEnv(t)
	a := e.post("/v2/apis.getApi", map[string]any{"apiId": e.seed.APIID})
	a.ok(t, nil)
	if !bytes.HasPrefix(a.Raw, []byte(`{"meta":{"requestId":"req_`)) || string(a.Data) != `{"id":"api_local","name":"local"}` {
		t.Errorf("%s", a.Raw)
	}
	b := e.post("/v2/apis.getApi", map[string]any{"apiId": e.seed.APIID})
	if a.Meta.RequestID == b.Meta.RequestID || len(a.Meta.RequestID) != len("req_")+22 {
		t.Errorf("request IDs %q %q", a.Meta.RequestID, b.Meta.RequestID)
	}
}
