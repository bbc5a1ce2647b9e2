package unkeylocal

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const migratePath = "/v2/keys.migrateKeys"

func (e *env) migrateRequest(raw string) *http.Request {
	body := mustJSON(e.t, map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID, "keys": []map[string]any{{"hash": NativeHash(raw)}}})
	req, _ := http.NewRequest(http.MethodPost, e.url+migratePath, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.seed.RootKey)
	req.Header.Set("Content-Type", "application/json")
	return req
}

func (e *env) stored(raw string) bool {
	_, ok := e.srv.KeyByHash(NativeHash(raw))
	return ok
}

func TestFaultStatus(t *testing.T) {
	e := newEnv(t)
	e.srv.InjectFault(Fault{Path: migratePath, Kind: FaultStatus, Status: 503, Skip: 1, Times: 2})
	e.do(e.migrateRequest("a")).ok(t, nil) // skipped
	for _, raw := range []string{"b", "c"} {
		a := e.do(e.migrateRequest(raw))
		a.problem(t, 503, TypeServiceUnavailable)
		if e.stored(raw) {
			t.Fatal("a faulted request was processed")
		}
	}
	e.do(e.migrateRequest("d")).ok(t, nil) // rule used up
	// Other paths are not affected.
	e.post("/v2/apis.getApi", map[string]any{"apiId": e.seed.APIID}).ok(t, nil)

	statuses := []int{}
	for _, r := range e.srv.RequestsTo(migratePath) {
		statuses = append(statuses, r.Status)
	}
	if len(statuses) != 4 || statuses[1] != 503 || statuses[3] != 200 || len(e.srv.RequestsTo(migratePath)[1].Hashes) != 1 {
		t.Fatalf("statuses %v", statuses)
	}

	e.srv.InjectFault(Fault{Path: migratePath, Kind: FaultStatus, Status: 403, Times: 1})
	e.do(e.migrateRequest("e")).problem(t, 403, TypeInsufficientPermissions)
	e.srv.InjectFault(Fault{Path: migratePath, Kind: FaultStatus, Status: 500, Body: []byte(`{"oops":true}`), ContentType: "application/json", Times: 1})
	res, err := http.DefaultClient.Do(e.migrateRequest("f"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != 500 || string(body) != `{"oops":true}` {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
}

func TestFaultRateLimit(t *testing.T) {
	e := newEnv(t)
	e.srv.InjectFault(Fault{Path: migratePath, Kind: FaultRateLimit, RetryAfterSeconds: 7, Times: 1})
	a := e.do(e.migrateRequest("a"))
	a.problem(t, 429, TypeWorkspaceRateLimited)
	if a.Header.Get("Retry-After") != "7" || a.Header.Get("Ratelimit-Limit") == "" || a.Header.Get("Ratelimit-Remaining") != "0" || a.Header.Get("Ratelimit-Reset") == "" {
		t.Fatalf("headers %v", a.Header)
	}
	if e.stored("a") {
		t.Fatal("processed")
	}
}

func TestFaultDrops(t *testing.T) {
	e := newEnv(t)
	e.srv.InjectFault(Fault{Path: migratePath, Kind: FaultDropBeforeProcessing, Times: 1})
	if _, err := http.DefaultClient.Do(e.migrateRequest("before")); err == nil {
		t.Fatal("the connection was not dropped")
	}
	if e.stored("before") {
		t.Fatal("processed before the drop")
	}
	e.srv.InjectFault(Fault{Path: migratePath, Kind: FaultDropAfterProcessing, Times: 1})
	if _, err := http.DefaultClient.Do(e.migrateRequest("after")); err == nil {
		t.Fatal("the connection was not dropped")
	}
	if !e.stored("after") {
		t.Fatal("not processed before the drop")
	}
	for _, r := range e.srv.RequestsTo(migratePath) {
		if r.Status != 0 {
			t.Fatalf("a dropped request has status %d", r.Status)
		}
	}
}

func TestFaultStatusAfterProcessing(t *testing.T) {
	e := newEnv(t)
	e.srv.InjectFault(Fault{Path: migratePath, Kind: FaultStatusAfterProcessing, Status: 504, Times: 1})
	e.do(e.migrateRequest("late")).problem(t, 504, TypeUnexpectedError)
	if !e.stored("late") {
		t.Fatal("not processed")
	}
	// Retrying finds the hash taken.
	var res migrated
	e.do(e.migrateRequest("late")).ok(t, &res)
	if len(res.Failed) != 1 {
		t.Fatalf("%+v", res)
	}
}

func TestFaultDelay(t *testing.T) {
	e := newEnv(t)
	e.srv.InjectFault(Fault{Path: migratePath, Kind: FaultDelay, Delay: 300 * time.Millisecond, Times: 1})
	start := time.Now()
	e.do(e.migrateRequest("slow")).ok(t, nil)
	if time.Since(start) < 300*time.Millisecond {
		t.Fatal("not delayed")
	}
	// A client that gives up during the delay leaves the request unprocessed.
	e.srv.InjectFault(Fault{Path: migratePath, Kind: FaultDelay, Delay: 5 * time.Second, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := http.DefaultClient.Do(e.migrateRequest("abandoned").WithContext(ctx))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	if e.stored("abandoned") {
		t.Fatal("an abandoned delayed request was processed")
	}
}

func TestFaultRawResponse(t *testing.T) {
	e := newEnv(t)
	e.srv.InjectFault(Fault{Path: migratePath, Kind: FaultRawResponse, Status: 502, ContentType: "text/html", Body: []byte("<html>Bad gateway</html>")})
	for i := 0; i < 3; i++ { // Times 0: forever
		res, err := http.DefaultClient.Do(e.migrateRequest("raw"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != 502 || res.Header.Get("Content-Type") != "text/html" || !bytes.Equal(body, []byte("<html>Bad gateway</html>")) {
			t.Fatalf("%d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
	if e.stored("raw") {
		t.Fatal("processed")
	}
	e.srv.ClearFaults()
	e.do(e.migrateRequest("raw")).ok(t, nil)
}

func TestFaultRulesInOrder(t *testing.T) {
	e := newEnv(t)
	// A request skipped by the first rule can be caught by the second.
	e.srv.InjectFault(Fault{Path: migratePath, Kind: FaultStatus, Status: 502, Skip: 1, Times: 1})
	e.srv.InjectFault(Fault{Kind: FaultStatus, Status: 503, Times: 1}) // any path
	e.do(e.migrateRequest("1")).problem(t, 503, TypeServiceUnavailable)
	e.do(e.migrateRequest("2")).problem(t, 502, TypeUnexpectedError)
	e.do(e.migrateRequest("3")).ok(t, nil)
	if FaultDelay.String() != "FaultDelay" {
		t.Error(FaultDelay.String())
	}
}

// get sends a GET without a root key and returns the raw answer.
func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

func TestLiveness(t *testing.T) {
	e := newEnv(t)
	status, ct, body := get(t, e.url+"/v2/liveness")
	if status != 200 || ct != "application/json" || !strings.HasPrefix(body, `{"meta":{"requestId":"req_`) || !strings.HasSuffix(body, `"data":{"message":"OK"}}`) {
		t.Fatalf("%d %s %s", status, ct, body)
	}
	// Only GET, as on Unkey.
	e.post("/v2/liveness", "{}").problem(t, 405, TypeMethodNotAllowed)
}

func TestImpersonateNonUnkey(t *testing.T) {
	e := newEnv(t)
	e.srv.ImpersonateNonUnkey()
	if status, ct, body := get(t, e.url+"/v2/liveness"); status != 404 || strings.Contains(body, "requestId") || strings.Contains(ct, "json") {
		t.Errorf("liveness: %d %s %s", status, ct, body)
	}
	req := e.migrateRequest("sk_never")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || string(b) != NonUnkeyPage {
		t.Errorf("migrateKeys: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	if e.stored("sk_never") {
		t.Error("a non-Unkey server processed the request")
	}
	e.srv.ClearFaults()
	if status, _, _ := get(t, e.url+"/v2/liveness"); status != 200 {
		t.Errorf("ClearFaults left it a non-Unkey server: %d", status)
	}
}

func TestUnreachable(t *testing.T) {
	if _, err := http.Get(UnreachableURL(t) + "/v2/liveness"); err == nil {
		t.Error("UnreachableURL was reached")
	}
	_, url, stop := StartStoppableTestServer(t, Options{})
	if status, _, _ := get(t, url+"/v2/liveness"); status != 200 {
		t.Fatalf("status %d", status)
	}
	stop()
	if _, err := http.Get(url + "/v2/liveness"); err == nil {
		t.Error("a stopped server was reached")
	}
}
