package unkeylocal

import (
	"regexp"
	"testing"
)

func TestCreateKey(t *testing.T) {
	e := newEnv(t)
	e.post("/v2/permissions.createRole", map[string]any{"name": "admin", "permissions": []string{"all"}}).ok(t, nil)
	var created struct{ KeyID, Key string }
	e.post("/v2/keys.createKey", map[string]any{
		"apiId": e.seed.APIID, "prefix": "prod", "byteLength": 24, "name": "svc", "externalId": "acme",
		"meta": map[string]any{"a": 1}, "roles": []string{"admin"}, "permissions": []string{"direct"},
		"credits":    map[string]any{"remaining": 5},
		"ratelimits": []map[string]any{{"name": "requests", "limit": 3, "duration": 1000, "autoApply": true}},
	}).ok(t, &created)
	if !regexp.MustCompile(`^prod_[1-9A-HJ-NP-Za-km-z]{30,}$`).MatchString(created.Key) {
		t.Fatalf("key %q", created.Key)
	}
	k, ok := e.srv.KeyByID(created.KeyID)
	if !ok || k.Hash != NativeHash(created.Key) || k.Name != "svc" || k.ExternalID != "acme" || k.Start != created.Key[:9] ||
		len(k.Roles) != 1 || len(k.Permissions) != 1 || *k.Credits.Remaining != 5 || len(k.Ratelimits) != 1 || !k.Enabled {
		t.Fatalf("stored %+v", k)
	}
	var v struct {
		Valid       bool
		Permissions []string
	}
	e.post("/v2/keys.verifyKey", map[string]any{"key": created.Key, "permissions": "all AND direct"}).ok(t, &v)
	if !v.Valid {
		t.Fatalf("verify %+v", v)
	}

	var plain struct{ Key string }
	e.post("/v2/keys.createKey", map[string]any{"apiId": e.seed.APIID}).ok(t, &plain)
	if !regexp.MustCompile(`^[1-9A-HJ-NP-Za-km-z]{20,}$`).MatchString(plain.Key) {
		t.Fatalf("unprefixed key %q", plain.Key)
	}

	e.post("/v2/keys.createKey", map[string]any{"apiId": e.seed.APIID, "roles": []string{"nope"}}).problem(t, 404, TypeRoleNotFound)
	e.post("/v2/keys.createKey", map[string]any{"apiId": "api_unknown"}).problem(t, 404, TypeAPINotFound)
	e.post("/v2/keys.createKey", map[string]any{"apiId": e.seed.APIID, "recoverable": true}).problem(t, 412, TypePreconditionFailed)
	e.post("/v2/keys.createKey", map[string]any{"apiId": e.seed.APIID, "byteLength": 8}).problem(t, 400, TypeInvalidInput)
	e.srv.AddRootKey("ws_2", "root_2", "*")
	e.postAs("Bearer root_2", "/v2/keys.createKey", map[string]any{"apiId": e.seed.APIID}).problem(t, 404, TypeAPINotFound)
	e.srv.AddRootKey(e.seed.WorkspaceID, "limited", "api.*.read_key")
	// Unkey masks a missing create_key as the API not found
	// (v2_keys_create_key/handler.go).
	e.postAs("Bearer limited", "/v2/keys.createKey", map[string]any{"apiId": e.seed.APIID}).problem(t, 404, TypeAPINotFound)
	// It creates a missing permission without create_permission.
	e.srv.AddRootKey(e.seed.WorkspaceID, "creator", "api.*.create_key")
	e.postAs("Bearer creator", "/v2/keys.createKey", map[string]any{"apiId": e.seed.APIID, "permissions": []string{"brand.new"}}).ok(t, nil)
}
