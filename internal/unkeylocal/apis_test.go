package unkeylocal

import (
	"fmt"
	"regexp"
	"testing"
)

func TestCreateGetDeleteAPI(t *testing.T) {
	e := newEnv(t)
	var created struct {
		APIID string `json:"apiId"`
	}
	e.post("/v2/apis.createApi", map[string]any{"name": "payments (prod)"}).ok(t, &created)
	if !regexp.MustCompile(`^api_[1-9A-HJ-NP-Za-km-z]{22}$`).MatchString(created.APIID) {
		t.Fatalf("API ID %q", created.APIID)
	}
	var got struct{ ID, Name string }
	e.post("/v2/apis.getApi", map[string]any{"apiId": created.APIID}).ok(t, &got)
	if got.ID != created.APIID || got.Name != "payments (prod)" {
		t.Fatalf("%+v", got)
	}

	// Keys can be migrated into it; deleting it soft-deletes them.
	var res migrated
	e.post("/v2/keys.migrateKeys", map[string]any{"migrationId": e.seed.MigrationID, "apiId": created.APIID,
		"keys": []map[string]any{{"hash": NativeHash("in new api")}}}).ok(t, &res)
	a := e.post("/v2/apis.deleteApi", map[string]any{"apiId": created.APIID})
	a.ok(t, nil)
	if string(a.Data) != "{}" {
		t.Errorf("data %s", a.Data)
	}
	e.post("/v2/apis.getApi", map[string]any{"apiId": created.APIID}).problem(t, 404, TypeAPINotFound)
	e.post("/v2/apis.deleteApi", map[string]any{"apiId": created.APIID}).problem(t, 404, TypeAPINotFound)
	e.post("/v2/keys.getKey", map[string]any{"keyId": res.Migrated[0].KeyID}).problem(t, 404, TypeKeyNotFound)
	if k, ok := e.srv.KeyByHash(NativeHash("in new api")); !ok || !k.Deleted {
		t.Fatal("the keys of a deleted API must stay, soft-deleted")
	}
	if res := e.migrate(map[string]any{"hash": NativeHash("in new api")}); len(res.Failed) != 1 {
		t.Fatal("the hash of a key of a deleted API was migrated again")
	}
	e.post("/v2/keys.migrateKeys", map[string]any{"migrationId": e.seed.MigrationID, "apiId": created.APIID,
		"keys": []map[string]any{{"hash": NativeHash("late")}}}).problem(t, 404, TypeAPINotFound)
}

func TestAPIErrors(t *testing.T) {
	e := newEnv(t)
	e.srv.AddRootKey("ws_2", "root_2", "*")
	e.postAs("Bearer root_2", "/v2/apis.getApi", map[string]any{"apiId": e.seed.APIID}).problem(t, 404, TypeAPINotFound)
	e.postAs("Bearer root_2", "/v2/apis.deleteApi", map[string]any{"apiId": e.seed.APIID}).problem(t, 404, TypeAPINotFound)

	e.srv.AddRootKey(e.seed.WorkspaceID, "reader", "api.*.read_key")
	d := e.postAs("Bearer reader", "/v2/apis.createApi", map[string]any{"name": "nope"}).problem(t, 403, TypeInsufficientPermissions)
	if d != "Missing one of these permissions: api.*.create_api" {
		t.Errorf("detail %q", d)
	}
	d = e.postAs("Bearer reader", "/v2/apis.getApi", map[string]any{"apiId": e.seed.APIID}).problem(t, 403, TypeInsufficientPermissions)
	if d != "Missing one of these permissions: api.api_local.read_api or api.*.read_api" {
		t.Errorf("detail %q", d)
	}
	e.postAs("Bearer reader", "/v2/apis.deleteApi", map[string]any{"apiId": e.seed.APIID}).problem(t, 403, TypeInsufficientPermissions)

	e.srv.SetAPIDeleteProtection(e.seed.APIID, true)
	a := e.post("/v2/apis.deleteApi", map[string]any{"apiId": e.seed.APIID})
	if d := a.problem(t, 412, TypeProtectedResource); d != "This API has delete protection enabled. Disable it before attempting to delete." || a.Error.Title != "Resource is protected" {
		t.Errorf("%s", a)
	}
	e.srv.SetAPIDeleteProtection(e.seed.APIID, false)
	e.post("/v2/apis.deleteApi", map[string]any{"apiId": e.seed.APIID}).ok(t, nil)
}

func TestListKeys(t *testing.T) {
	e := newEnv(t)
	keys := make([]map[string]any, 7)
	for i := range keys {
		keys[i] = map[string]any{"hash": NativeHash(fmt.Sprint("list", i)), "name": fmt.Sprint("k", i)}
		if i%2 == 0 {
			keys[i]["externalId"] = "even"
		}
	}
	e.migrate(keys...)
	deleted := e.migrateRaw("deleted")[0]
	e.post("/v2/keys.deleteKey", map[string]any{"keyId": deleted}).ok(t, nil)

	type listAnswer struct {
		Data       []map[string]any `json:"data"`
		Pagination struct {
			Cursor  string `json:"cursor"`
			HasMore bool   `json:"hasMore"`
		} `json:"pagination"`
	}
	list := func(body map[string]any) listAnswer {
		t.Helper()
		a := e.post("/v2/apis.listKeys", body)
		if a.Status != 200 {
			t.Fatalf("%s", a)
		}
		var out listAnswer
		if err := jsonUnmarshal(a.Raw, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	var seen []string
	body := map[string]any{"apiId": e.seed.APIID, "limit": 3}
	for pages := 0; ; pages++ {
		p := list(body)
		for _, k := range p.Data {
			seen = append(seen, k["keyId"].(string))
		}
		if !p.Pagination.HasMore {
			if p.Pagination.Cursor != "" || pages != 2 {
				t.Fatalf("last page: %+v after %d pages", p.Pagination, pages)
			}
			break
		}
		body["cursor"] = p.Pagination.Cursor
	}
	if len(seen) != 7 {
		t.Fatalf("%d keys listed", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i-1] >= seen[i] {
			t.Fatal("keys are not ordered by ID")
		}
	}
	if p := list(map[string]any{"apiId": e.seed.APIID, "externalId": "even"}); len(p.Data) != 4 || p.Data[0]["identity"].(map[string]any)["externalId"] != "even" {
		t.Fatalf("%+v", p)
	}
	if p := list(map[string]any{"apiId": e.seed.APIID, "externalId": "nobody"}); len(p.Data) != 0 || p.Pagination.HasMore {
		t.Fatalf("%+v", p)
	}

	e.post("/v2/apis.listKeys", map[string]any{"apiId": "api_unknown"}).problem(t, 404, TypeAPINotFound)
	e.srv.AddRootKey(e.seed.WorkspaceID, "keys_only", "api.*.read_key")
	// Unkey answers a root key that may not read the API as if it did not exist.
	e.postAs("Bearer keys_only", "/v2/apis.listKeys", map[string]any{"apiId": e.seed.APIID}).problem(t, 404, TypeAPINotFound)
	e.srv.AddRootKey(e.seed.WorkspaceID, "both", "api.api_local.read_key", "api.*.read_api")
	if a := e.postAs("Bearer both", "/v2/apis.listKeys", map[string]any{"apiId": e.seed.APIID}); a.Status != 200 {
		t.Fatalf("%s", a)
	}
}
