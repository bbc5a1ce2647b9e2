package unkeylocal

import (
	"testing"
)

type identityAnswer struct {
	ID, ExternalID string
	Meta           map[string]any
	Ratelimits     []struct {
		ID, Name        string
		Limit, Duration int64
		AutoApply       bool
	}
}

func TestIdentityLifecycle(t *testing.T) {
	e := newEnv(t)
	var created struct{ IdentityID string }
	e.post("/v2/identities.createIdentity", map[string]any{
		"externalId": "acme", "meta": map[string]any{"plan": "pro"},
		"ratelimits": []map[string]any{{"name": "requests", "limit": 10, "duration": 60000, "autoApply": true}},
	}).ok(t, &created)
	for _, ref := range []string{"acme", created.IdentityID} {
		var got identityAnswer
		e.post("/v2/identities.getIdentity", map[string]any{"identity": ref}).ok(t, &got)
		if got.ID != created.IdentityID || got.ExternalID != "acme" || got.Meta["plan"] != "pro" ||
			len(got.Ratelimits) != 1 || got.Ratelimits[0].Limit != 10 || !got.Ratelimits[0].AutoApply {
			t.Fatalf("by %s: %+v", ref, got)
		}
	}
	e.post("/v2/identities.createIdentity", map[string]any{"externalId": "acme"}).problem(t, 409, TypeIdentityAlreadyExists)

	// Omitted fields are kept; given ones replace.
	var updated identityAnswer
	e.post("/v2/identities.updateIdentity", map[string]any{"identity": "acme",
		"ratelimits": []map[string]any{{"name": "requests", "limit": 20, "duration": 60000, "autoApply": true}}}).ok(t, &updated)
	if updated.Meta["plan"] != "pro" || updated.Ratelimits[0].Limit != 20 {
		t.Fatalf("update: %+v", updated)
	}
	var cleared identityAnswer
	e.post("/v2/identities.updateIdentity", map[string]any{"identity": created.IdentityID, "meta": map[string]any{}, "ratelimits": []any{}}).ok(t, &cleared)
	if len(cleared.Meta) != 0 || len(cleared.Ratelimits) != 0 {
		t.Fatalf("clear: %+v", cleared)
	}

	// A migrated key of that external ID links to it, and verifies with it.
	e.migrate(map[string]any{"hash": NativeHash("acme key"), "externalId": "acme"})
	var v struct {
		Identity struct{ ID, ExternalID string }
	}
	e.post("/v2/keys.verifyKey", map[string]any{"key": "acme key"}).ok(t, &v)
	if v.Identity.ID != created.IdentityID {
		t.Fatalf("verify: %+v", v)
	}

	e.post("/v2/identities.deleteIdentity", map[string]any{"identity": "acme"}).ok(t, nil)
	e.post("/v2/identities.getIdentity", map[string]any{"identity": "acme"}).problem(t, 404, TypeIdentityNotFound)
	e.post("/v2/identities.deleteIdentity", map[string]any{"identity": "acme"}).problem(t, 404, TypeIdentityNotFound)
	e.post("/v2/identities.updateIdentity", map[string]any{"identity": "acme"}).problem(t, 404, TypeIdentityNotFound)
}

func TestIdentityCreatedByMigrationIsVisible(t *testing.T) {
	e := newEnv(t)
	e.migrate(map[string]any{"hash": NativeHash("k"), "externalId": "first-use"})
	var got identityAnswer
	e.post("/v2/identities.getIdentity", map[string]any{"identity": "first-use"}).ok(t, &got)
	k, _ := e.srv.KeyByHash(NativeHash("k"))
	if got.ID == "" || got.ID != k.IdentityID {
		t.Fatalf("identity %+v, key's %q", got, k.IdentityID)
	}
	e.post("/v2/identities.createIdentity", map[string]any{"externalId": "first-use"}).problem(t, 409, TypeIdentityAlreadyExists)
}

func TestIdentityPermissionsAndWorkspaces(t *testing.T) {
	e := newEnv(t)
	e.post("/v2/identities.createIdentity", map[string]any{"externalId": "mine"}).ok(t, nil)
	e.srv.AddRootKey("ws_2", "root_2", "*")
	e.postAs("Bearer root_2", "/v2/identities.getIdentity", map[string]any{"identity": "mine"}).problem(t, 404, TypeIdentityNotFound)
	e.postAs("Bearer root_2", "/v2/identities.deleteIdentity", map[string]any{"identity": "mine"}).problem(t, 404, TypeIdentityNotFound)

	e.srv.AddRootKey(e.seed.WorkspaceID, "limited", "api.*.read_key")
	for path, want := range map[string]string{
		"/v2/identities.createIdentity": "identity.*.create_identity",
		"/v2/identities.getIdentity":    "identity.*.read_identity",
		"/v2/identities.updateIdentity": "identity.*.update_identity",
		"/v2/identities.deleteIdentity": "identity.*.delete_identity",
	} {
		body := map[string]any{"identity": "mine"}
		if path == "/v2/identities.createIdentity" {
			body = map[string]any{"externalId": "other"}
		}
		if d := e.postAs("Bearer limited", path, body).problem(t, 403, TypeInsufficientPermissions); d != "Missing one of these permissions: "+want {
			t.Errorf("%s: %q", path, d)
		}
	}
	e.post("/v2/identities.createIdentity", map[string]any{"externalId": "has space"}).problem(t, 400, TypeInvalidInput)
	e.post("/v2/identities.updateIdentity", map[string]any{"identity": "mine", "ratelimits": []map[string]any{{"name": "r"}}}).problem(t, 400, TypeInvalidInput)
}
