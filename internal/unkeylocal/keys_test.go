package unkeylocal

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var keyIDPatternRE = regexp.MustCompile(`^key_[1-9A-HJ-NP-Za-km-z]{22}$`)

func TestMigrateKeys(t *testing.T) {
	e := newEnv(t)
	h1, h2 := NativeHash("legacy_1"), NativeHash("legacy_2")
	a := e.post("/v2/keys.migrateKeys", map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID,
		"keys": []map[string]any{{"hash": h1, "name": "one"}, {"hash": h2}}})
	var res migrated
	a.ok(t, &res)
	// failed is null, not [], when nothing failed.
	if !strings.Contains(string(a.Data), `"failed":null`) {
		t.Errorf("data %s", a.Data)
	}
	if len(res.Migrated) != 2 || res.Migrated[0].Hash != h1 || res.Migrated[1].Hash != h2 || res.Migrated[0].KeyID == res.Migrated[1].KeyID {
		t.Fatalf("%+v", res)
	}
	for _, m := range res.Migrated {
		if !keyIDPatternRE.MatchString(m.KeyID) {
			t.Errorf("key ID %q", m.KeyID)
		}
	}
	k, ok := e.srv.KeyByHash(h1)
	if !ok || k.ID != res.Migrated[0].KeyID || k.Name != "one" || !k.Enabled || k.Start != "" || k.APIID != e.seed.APIID ||
		k.WorkspaceID != e.seed.WorkspaceID || k.MigrationID != e.seed.MigrationID || k.PendingMigrationID != e.seed.MigrationID || k.CreatedAt == 0 {
		t.Errorf("%+v", k)
	}

	// Partial success: existing hashes fail, new ones are migrated.
	h3 := NativeHash("legacy_3")
	a = e.post("/v2/keys.migrateKeys", map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID,
		"keys": []map[string]any{{"hash": h1}, {"hash": h3}, {"hash": h2}}})
	a.ok(t, &res)
	if len(res.Migrated) != 1 || res.Migrated[0].Hash != h3 || len(res.Failed) != 2 || res.Failed[0] != h1 || res.Failed[1] != h2 {
		t.Fatalf("%s", a.Data)
	}
	// Nothing migrated: migrated is [], not null.
	a = e.post("/v2/keys.migrateKeys", map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID, "keys": []map[string]any{{"hash": h1}}})
	if a.Status != 200 || !strings.Contains(string(a.Data), `"migrated":[]`) {
		t.Fatalf("%s", a)
	}
	if n := len(e.srv.Keys(e.seed.APIID)); n != 3 {
		t.Fatalf("%d keys", n)
	}
}

func TestMigrateKeysHashesAreGloballyUnique(t *testing.T) {
	e := newEnv(t)
	e.srv.AddRootKey("ws_2", "root_2", "*")
	e.srv.AddAPI("ws_2", "api_second", "second")
	e.srv.AddMigration("ws_2", "mig_second", AlgorithmSHA256)
	ids := e.migrateRaw("shared", "deleted", "purged")

	other := func(h string) migrated {
		var res migrated
		e.postAs("Bearer root_2", "/v2/keys.migrateKeys", map[string]any{"migrationId": "mig_second", "apiId": "api_second",
			"keys": []map[string]any{{"hash": h}}}).ok(t, &res)
		return res
	}
	if res := other(NativeHash("shared")); len(res.Failed) != 1 || len(res.Migrated) != 0 {
		t.Fatalf("a hash of another workspace was migrated: %+v", res)
	}
	// A soft-deleted key keeps its hash; a permanently deleted one frees it.
	e.post("/v2/keys.deleteKey", map[string]any{"keyId": ids[1]}).ok(t, nil)
	e.post("/v2/keys.deleteKey", map[string]any{"keyId": ids[2], "permanent": true}).ok(t, nil)
	if res := other(NativeHash("deleted")); len(res.Failed) != 1 {
		t.Fatalf("the hash of a soft-deleted key was migrated: %+v", res)
	}
	if res := other(NativeHash("purged")); len(res.Migrated) != 1 || res.Failed != nil {
		t.Fatalf("the hash of a permanently deleted key stayed taken: %+v", res)
	}
}

func TestMigrateKeysRepeatedHash(t *testing.T) {
	e := newEnv(t)
	h, other := NativeHash("twice"), NativeHash("other")
	a := e.post("/v2/keys.migrateKeys", map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID,
		"keys": []map[string]any{{"hash": other, "externalId": "someone"}, {"hash": h}, {"hash": h}}})
	if d := a.problem(t, 500, TypeUnexpectedError); d != "" || a.Error.Title != "Internal Server Error" {
		t.Errorf("%s", a.Raw)
	}
	if e.srv.KeyCount() != 0 {
		t.Fatal("a failed request inserted keys")
	}
	// A repeated hash that already exists is reported once as failed.
	e.migrateRaw("twice")
	res := e.migrate(map[string]any{"hash": h}, map[string]any{"hash": h}, map[string]any{"hash": other})
	if len(res.Failed) != 1 || res.Failed[0] != h || len(res.Migrated) != 1 {
		t.Fatalf("%+v", res)
	}
}

func TestMigrateKeysNotFound(t *testing.T) {
	e := newEnv(t)
	e.srv.AddRootKey("ws_2", "root_2", "*")
	e.srv.AddAPI("ws_2", "api_second", "second")
	e.srv.AddMigration("ws_2", "mig_second", AlgorithmSHA256)
	body := func(mig, api string) map[string]any {
		return map[string]any{"migrationId": mig, "apiId": api, "keys": []map[string]any{{"hash": NativeHash("x")}}}
	}
	// The API is checked first.
	e.post("/v2/keys.migrateKeys", body("mig_unknown", "api_unknown")).problem(t, 404, TypeAPINotFound)
	e.post("/v2/keys.migrateKeys", body(e.seed.MigrationID, "api_second")).problem(t, 404, TypeAPINotFound)
	d := e.post("/v2/keys.migrateKeys", body("mig_unknown", e.seed.APIID)).problem(t, 404, TypeMigrationNotFound)
	if d != "The requested Migration does not exist or has been deleted." {
		t.Errorf("detail %q", d)
	}
	e.post("/v2/keys.migrateKeys", body("mig_second", e.seed.APIID)).problem(t, 404, TypeMigrationNotFound)
	if e.srv.KeyCount() != 0 {
		t.Fatal("keys inserted")
	}
}

func TestMigrateKeysPermissions(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID, "keys": []map[string]any{{"hash": NativeHash("x")}}}
	e.srv.AddRootKey(e.seed.WorkspaceID, "reader", "api.*.read_key")
	d := e.postAs("Bearer reader", "/v2/keys.migrateKeys", body).problem(t, 403, TypeInsufficientPermissions)
	if d != "Missing one of these permissions: api.api_local.create_key or api.*.create_key" {
		t.Errorf("detail %q", d)
	}
	// Permissions are checked before the API, so an unknown API is a 403 too.
	unknown := map[string]any{"migrationId": e.seed.MigrationID, "apiId": "api_other", "keys": body["keys"]}
	e.postAs("Bearer reader", "/v2/keys.migrateKeys", unknown).problem(t, 403, TypeInsufficientPermissions)
	for _, perm := range []string{"api.*.create_key", "api.api_local.create_key"} {
		e.srv.AddRootKey(e.seed.WorkspaceID, "creator_"+perm, perm)
		var res migrated
		e.postAs("Bearer creator_"+perm, "/v2/keys.migrateKeys", map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID,
			"keys": []map[string]any{{"hash": NativeHash(perm)}}}).ok(t, &res)
		if len(res.Migrated) != 1 {
			t.Fatalf("%s: %+v", perm, res)
		}
	}
}

func TestMigrateKeysMonthlyRefillNeedsADay(t *testing.T) {
	e := newEnv(t)
	a := e.post("/v2/keys.migrateKeys", map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID, "keys": []map[string]any{
		{"hash": NativeHash("ok")},
		{"hash": NativeHash("monthly"), "credits": map[string]any{"remaining": 5, "refill": map[string]any{"interval": "monthly", "amount": 5}}},
	}})
	if d := a.problem(t, 400, TypeInvalidInput); d != "`refillDay` must be provided when the refill interval is `monthly`." {
		t.Errorf("detail %q", d)
	}
	if e.srv.KeyCount() != 0 {
		t.Fatal("keys inserted")
	}
	// A refill day with a daily interval is ignored by keys.migrateKeys.
	res := e.migrate(map[string]any{"hash": NativeHash("daily"), "credits": map[string]any{"remaining": 5, "refill": map[string]any{"interval": "daily", "amount": 5, "refillDay": 3}}})
	k, _ := e.srv.KeyByID(res.Migrated[0].KeyID)
	if k.Credits == nil || k.Credits.Refill == nil || k.Credits.Refill.Interval != "daily" || k.Credits.Refill.RefillDay != nil {
		t.Fatalf("%+v", k.Credits)
	}
}

func TestGetKey(t *testing.T) {
	e := newEnv(t)
	full := validMigrateKey()
	res := e.migrate(full, map[string]any{"hash": NativeHash("bare")})
	var got map[string]any
	e.post("/v2/keys.getKey", map[string]any{"keyId": res.Migrated[0].KeyID}).ok(t, &got)
	id := got["identity"].(map[string]any)
	rl := got["ratelimits"].([]any)[0].(map[string]any)
	slices.SortFunc(got["permissions"].([]any), func(a, b any) int { return strings.Compare(a.(string), b.(string)) }) // any order
	want := map[string]any{
		"keyId": res.Migrated[0].KeyID, "start": "", "enabled": false, "name": "full key",
		"meta": map[string]any{"n": 1.0, "plan": "pro"}, "createdAt": got["createdAt"], "expires": 4102444800000.0,
		"permissions": []any{"api.*", "documents.read"}, "roles": []any{"admin"},
		"credits":    map[string]any{"remaining": 10.0, "refill": map[string]any{"interval": "monthly", "amount": 5.0, "refillDay": 31.0}},
		"identity":   map[string]any{"id": id["id"], "externalId": "user_1"},
		"ratelimits": []any{map[string]any{"id": rl["id"], "name": "requests", "limit": 10.0, "duration": 1000.0, "autoApply": true}},
	}
	if mustJSON(t, got) != mustJSON(t, want) {
		t.Fatalf("got  %s\nwant %s", mustJSON(t, got), mustJSON(t, want))
	}
	if !strings.HasPrefix(id["id"].(string), "id_") || !strings.HasPrefix(rl["id"].(string), "rl_") {
		t.Errorf("IDs %v %v", id["id"], rl["id"])
	}
	// Absent optional fields are omitted.
	a := e.post("/v2/keys.getKey", map[string]any{"keyId": res.Migrated[1].KeyID})
	got = nil
	a.ok(t, &got)
	if len(got) != 4 || got["start"] != "" || got["enabled"] != true {
		t.Fatalf("%s", a.Data)
	}

	d := e.post("/v2/keys.getKey", map[string]any{"keyId": "key_unknown"}).problem(t, 404, TypeKeyNotFound)
	if d != "We could not find the requested key." {
		t.Errorf("detail %q", d)
	}
	e.srv.AddRootKey("ws_2", "root_2", "*")
	if d := e.postAs("Bearer root_2", "/v2/keys.getKey", map[string]any{"keyId": res.Migrated[0].KeyID}).problem(t, 404, TypeKeyNotFound); d != "We could not find the requested key." {
		t.Errorf("detail %q", d)
	}
	e.srv.AddRootKey(e.seed.WorkspaceID, "scoped", "api.api_other.read_key")
	d = e.postAs("Bearer scoped", "/v2/keys.getKey", map[string]any{"keyId": res.Migrated[0].KeyID}).problem(t, 403, TypeInsufficientPermissions)
	if d != "Missing one of these permissions: api.api_local.read_key or api.*.read_key" {
		t.Errorf("detail %q", d)
	}
	e.post("/v2/keys.getKey", map[string]any{"keyId": res.Migrated[0].KeyID, "decrypt": true}).problem(t, 412, TypePreconditionFailed)
}

func TestGetKeyCreditsWithoutRemainingAreOmitted(t *testing.T) {
	e := newEnv(t)
	res := e.migrate(map[string]any{"hash": NativeHash("unlimited"), "meta": map[string]any{},
		"credits": map[string]any{"remaining": nil, "refill": map[string]any{"interval": "daily", "amount": 1}}})
	var got map[string]any
	e.post("/v2/keys.getKey", map[string]any{"keyId": res.Migrated[0].KeyID}).ok(t, &got)
	if _, ok := got["credits"]; ok {
		t.Errorf("credits without a remaining count are not shown by Unkey: %v", got)
	}
	if _, ok := got["meta"]; ok {
		t.Errorf("empty meta is omitted: %v", got)
	}
}

func TestUpdateKey(t *testing.T) {
	e := newEnv(t)
	e.srv.AddRole(e.seed.WorkspaceID, "viewer")
	res := e.migrate(validMigrateKey())
	id := res.Migrated[0].KeyID
	before, _ := e.srv.KeyByID(id)
	rlID := before.Ratelimits[0].ID

	// Omitted fields are left alone.
	var data map[string]any
	a := e.post("/v2/keys.updateKey", map[string]any{"keyId": id, "enabled": true})
	a.ok(t, &data)
	if string(a.Data) != "{}" {
		t.Errorf("data %s", a.Data)
	}
	k, _ := e.srv.KeyByID(id)
	if !k.Enabled || k.Name != "full key" || k.ExternalID != "user_1" || k.Meta["plan"] != "pro" || k.Expires == nil || k.Credits == nil || len(k.Ratelimits) != 1 || k.UpdatedAt == 0 {
		t.Fatalf("%+v", k)
	}
	// Values set; roles and permissions replace the sets; a ratelimit keeps
	// its ID when its name stays.
	e.post("/v2/keys.updateKey", map[string]any{"keyId": id, "name": "renamed", "externalId": "user_2", "meta": map[string]any{"b": true},
		"expires": 1000, "credits": map[string]any{"remaining": 3, "refill": map[string]any{"interval": "daily", "amount": 2}},
		"ratelimits":  []map[string]any{{"name": "requests", "limit": 5, "duration": 2000, "autoApply": false}, {"name": "burst", "limit": 1, "duration": 1000, "autoApply": true}},
		"permissions": []string{"p.one"}, "roles": []string{"viewer"}}).ok(t, nil)
	k, _ = e.srv.KeyByID(id)
	if k.Name != "renamed" || k.ExternalID != "user_2" || k.Meta["b"] != true || len(k.Meta) != 1 || *k.Expires != 1000 ||
		*k.Credits.Remaining != 3 || k.Credits.Refill.Interval != "daily" || k.Credits.Refill.Amount != 2 ||
		len(k.Ratelimits) != 2 || k.Ratelimits[0].ID != rlID || k.Ratelimits[0].Limit != 5 || k.Ratelimits[1].ID == rlID ||
		fmt.Sprint(k.Permissions) != "[p.one]" || fmt.Sprint(k.Roles) != "[viewer]" {
		t.Fatalf("%+v", k)
	}
	// Null clears.
	e.post("/v2/keys.updateKey", map[string]any{"keyId": id, "name": nil, "externalId": nil, "meta": nil, "expires": nil, "credits": nil,
		"ratelimits": []any{}, "permissions": []string{}, "roles": []string{}}).ok(t, nil)
	k, _ = e.srv.KeyByID(id)
	if k.Name != "" || k.ExternalID != "" || k.Meta != nil || k.Expires != nil || k.Credits != nil || len(k.Ratelimits) != 0 || len(k.Permissions) != 0 || len(k.Roles) != 0 {
		t.Fatalf("%+v", k)
	}
	var got map[string]any
	e.post("/v2/keys.getKey", map[string]any{"keyId": id}).ok(t, &got)
	if len(got) != 5 { // keyId, start, enabled, createdAt, updatedAt
		t.Fatalf("%v", got)
	}
}

func TestUpdateKeyCredits(t *testing.T) {
	e := newEnv(t)
	fresh := func() string {
		return e.migrate(map[string]any{"hash": NativeHash(fmt.Sprint(time.Now().UnixNano())),
			"credits": map[string]any{"remaining": 100, "refill": map[string]any{"interval": "monthly", "amount": 50, "refillDay": 15}}}).Migrated[0].KeyID
	}
	get := func(id string) *Credits { k, _ := e.srv.KeyByID(id); return k.Credits }

	id := fresh()
	e.post("/v2/keys.updateKey", map[string]any{"keyId": id, "credits": map[string]any{"remaining": nil}}).ok(t, nil)
	if c := get(id); c != nil {
		t.Errorf("remaining null clears everything: %+v", c)
	}
	id = fresh()
	e.post("/v2/keys.updateKey", map[string]any{"keyId": id, "credits": map[string]any{"refill": nil}}).ok(t, nil)
	if c := get(id); c == nil || *c.Remaining != 100 || c.Refill != nil {
		t.Errorf("refill null only clears the refill: %+v", c)
	}
	id = fresh()
	e.post("/v2/keys.updateKey", map[string]any{"keyId": id, "credits": map[string]any{"remaining": 7}}).ok(t, nil)
	if c := get(id); *c.Remaining != 7 || c.Refill == nil || *c.Refill.RefillDay != 15 {
		t.Errorf("remaining alone keeps the refill: %+v", c)
	}
	d := e.post("/v2/keys.updateKey", map[string]any{"keyId": id, "credits": map[string]any{"refill": map[string]any{"interval": "daily", "amount": 1, "refillDay": 2}}}).problem(t, 400, TypeInvalidInput)
	if d != "`refillDay` must not be provided when the refill interval is `daily`." {
		t.Errorf("detail %q", d)
	}
	e.post("/v2/keys.updateKey", map[string]any{"keyId": id, "name": "not applied", "credits": map[string]any{"refill": map[string]any{"interval": "monthly", "amount": 1}}}).problem(t, 400, TypeInvalidInput)
	if k, _ := e.srv.KeyByID(id); k.Name != "" {
		t.Error("a failed update changed the key")
	}
}

func TestUpdateKeyErrors(t *testing.T) {
	e := newEnv(t)
	id := e.migrateRaw("upd")[0]
	d := e.post("/v2/keys.updateKey", map[string]any{"keyId": id, "name": "x", "roles": []string{"ghost"}}).problem(t, 404, TypeRoleNotFound)
	if d != "Role 'ghost' was not found." {
		t.Errorf("detail %q", d)
	}
	if k, _ := e.srv.KeyByID(id); k.Name != "" {
		t.Error("a failed update changed the key")
	}
	e.post("/v2/keys.updateKey", map[string]any{"keyId": "key_missing", "name": "x"}).problem(t, 404, TypeKeyNotFound)
	e.srv.AddRootKey(e.seed.WorkspaceID, "reader", "api.*.read_key")
	e.postAs("Bearer reader", "/v2/keys.updateKey", map[string]any{"keyId": id, "name": "x"}).problem(t, 403, TypeInsufficientPermissions)
	// ratelimits: null is not valid for Unkey's schema...
	e.post("/v2/keys.updateKey", map[string]any{"keyId": id, "ratelimits": nil}).problem(t, 400, TypeInvalidInput)
}

func TestUpdateKeyNullRatelimitsOption(t *testing.T) {
	e := newEnv(t, Options{AcceptNullRatelimits: true})
	id := e.migrate(validMigrateKey()).Migrated[0].KeyID
	e.post("/v2/keys.updateKey", map[string]any{"keyId": id, "ratelimits": nil}).ok(t, nil)
	if k, _ := e.srv.KeyByID(id); len(k.Ratelimits) != 0 {
		t.Fatalf("%+v", k.Ratelimits)
	}
}

func TestSetRolesAndPermissions(t *testing.T) {
	e := newEnv(t)
	e.srv.AddRole(e.seed.WorkspaceID, "viewer")
	res := e.migrate(map[string]any{"hash": NativeHash("rbac"), "roles": []string{"admin"}, "permissions": []string{"a.read"}})
	id := res.Migrated[0].KeyID

	var roles []struct{ ID, Name string }
	e.post("/v2/keys.setRoles", map[string]any{"keyId": id, "roles": []string{"viewer", "admin", "viewer"}}).ok(t, &roles)
	if len(roles) != 2 || roles[0].Name != "viewer" || roles[1].Name != "admin" || !strings.HasPrefix(roles[0].ID, "role_") {
		t.Fatalf("%+v", roles)
	}
	// By name only: an ID names no role (v2_keys_set_roles/handler.go).
	e.post("/v2/keys.setRoles", map[string]any{"keyId": id, "roles": []string{roles[1].ID}}).problem(t, 404, TypeRoleNotFound)
	e.post("/v2/keys.setRoles", map[string]any{"keyId": id, "roles": []string{"admin"}}).ok(t, &roles)
	if k, _ := e.srv.KeyByID(id); fmt.Sprint(k.Roles) != "[admin]" {
		t.Fatalf("%v", k.Roles)
	}
	d := e.post("/v2/keys.setRoles", map[string]any{"keyId": id, "roles": []string{"ghost"}}).problem(t, 404, TypeRoleNotFound)
	if d != "Role 'ghost' was not found." {
		t.Errorf("detail %q", d)
	}
	e.post("/v2/keys.setRoles", map[string]any{"keyId": id, "roles": []string{}}).ok(t, &roles)
	if len(roles) != 0 {
		t.Fatal("roles not cleared")
	}

	var perms []struct{ ID, Name, Slug string }
	e.post("/v2/keys.setPermissions", map[string]any{"keyId": id, "permissions": []string{"b.write", "a.read"}}).ok(t, &perms)
	if len(perms) != 2 || perms[0].Slug != "b.write" || perms[0].Name != "b.write" || !strings.HasPrefix(perms[0].ID, "perm_") {
		t.Fatalf("%+v", perms)
	}
	if k, _ := e.srv.KeyByID(id); fmt.Sprint(k.Permissions) != "[b.write a.read]" {
		t.Fatalf("%v", k.Permissions)
	}
	e.post("/v2/keys.setPermissions", map[string]any{"keyId": id, "permissions": []string{}}).ok(t, &perms)
	if k, _ := e.srv.KeyByID(id); len(k.Permissions) != 0 {
		t.Fatal("permissions not cleared")
	}
	d = e.post("/v2/keys.setPermissions", map[string]any{"keyId": "key_gone", "permissions": []string{}}).problem(t, 404, TypeKeyNotFound)
	if d != "The specified key was not found." {
		t.Errorf("detail %q", d)
	}
	e.srv.AddRootKey(e.seed.WorkspaceID, "updater", "api.api_local.update_key", "rbac.*.add_permission_to_key", "rbac.*.remove_permission_from_key", "rbac.*.create_permission")
	e.postAs("Bearer updater", "/v2/keys.setPermissions", map[string]any{"keyId": id, "permissions": []string{"c"}}).ok(t, nil)
}

func TestDeleteKey(t *testing.T) {
	e := newEnv(t)
	ids := e.migrateRaw("soft", "hard")
	e.srv.AddRootKey(e.seed.WorkspaceID, "reader", "api.*.read_key")
	d := e.postAs("Bearer reader", "/v2/keys.deleteKey", map[string]any{"keyId": ids[0]}).problem(t, 403, TypeInsufficientPermissions)
	if d != "Missing one of these permissions: api.api_local.delete_key or api.*.delete_key" {
		t.Errorf("detail %q", d)
	}
	a := e.post("/v2/keys.deleteKey", map[string]any{"keyId": ids[0]})
	a.ok(t, nil)
	if string(a.Data) != "{}" {
		t.Errorf("data %s", a.Data)
	}
	e.post("/v2/keys.getKey", map[string]any{"keyId": ids[0]}).problem(t, 404, TypeKeyNotFound)
	e.post("/v2/keys.deleteKey", map[string]any{"keyId": ids[0]}).problem(t, 404, TypeKeyNotFound)
	e.post("/v2/keys.deleteKey", map[string]any{"keyId": ids[0], "permanent": true}).problem(t, 404, TypeKeyNotFound)
	if k, ok := e.srv.KeyByHash(NativeHash("soft")); !ok || !k.Deleted {
		t.Fatal("a soft-deleted key must keep its hash")
	}
	e.post("/v2/keys.deleteKey", map[string]any{"keyId": ids[1], "permanent": true}).ok(t, nil)
	if _, ok := e.srv.KeyByID(ids[1]); ok {
		t.Fatal("a permanently deleted key is still stored")
	}
	if _, ok := e.srv.KeyByHash(NativeHash("hard")); ok {
		t.Fatal("a permanently deleted key kept its hash")
	}
	if keys := e.srv.Keys(e.seed.APIID); len(keys) != 0 {
		t.Fatalf("%d live keys", len(keys))
	}
}

// The provider sends up to 100,000 keys in batches, several at a time.
func TestMigrateManyKeysConcurrently(t *testing.T) {
	total, batch, workers := 100_000, 1000, 4
	if testing.Short() {
		total = 20_000
	}
	e := newEnv(t)
	batches := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[string]string{}
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				keys := make([]map[string]any, batch)
				for i := range keys {
					n := b*batch + i
					keys[i] = map[string]any{"hash": NativeHash(fmt.Sprintf("bulk_%06d", n)), "name": fmt.Sprintf("customer %d", n),
						"meta": map[string]any{"n": n}, "externalId": fmt.Sprintf("user_%d", n%50)}
				}
				var res migrated
				e.post("/v2/keys.migrateKeys", map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID, "keys": keys}).ok(t, &res)
				mu.Lock()
				for _, m := range res.Migrated {
					ids[m.KeyID] = m.Hash
				}
				mu.Unlock()
			}
		}()
	}
	for b := 0; b < total/batch; b++ {
		batches <- b
	}
	close(batches)
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("%d keys in batches of %d with %d in flight: %s", total, batch, workers, elapsed)
	if len(ids) != total || e.srv.KeyCount() != total || len(e.srv.Keys(e.seed.APIID)) != total {
		t.Fatalf("%d key IDs, %d keys stored", len(ids), e.srv.KeyCount())
	}
	if elapsed > 60*time.Second {
		t.Errorf("too slow: %s", elapsed)
	}
}

func TestConcurrentDuplicateBatches(t *testing.T) {
	// The same batch sent at once by several clients: each hash is migrated
	// exactly once, the others see it fail.
	e := newEnv(t)
	keys := make([]map[string]any, 200)
	for i := range keys {
		keys[i] = map[string]any{"hash": NativeHash(fmt.Sprint("race", i))}
	}
	var wg sync.WaitGroup
	results := make([]migrated, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.post("/v2/keys.migrateKeys", map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID, "keys": keys}).ok(t, &results[i])
		}()
	}
	wg.Wait()
	migratedN, failedN := 0, 0
	for _, r := range results {
		migratedN += len(r.Migrated)
		failedN += len(r.Failed)
		if len(r.Migrated) != 0 && len(r.Migrated) != 200 {
			t.Fatalf("a batch was not atomic: %d migrated", len(r.Migrated))
		}
	}
	if migratedN != 200 || failedN != 7*200 {
		t.Fatalf("%d migrated, %d failed", migratedN, failedN)
	}
}

func TestKeyExportIsACopy(t *testing.T) {
	e := newEnv(t)
	id := e.migrate(validMigrateKey()).Migrated[0].KeyID
	k, _ := e.srv.KeyByID(id)
	k.Roles[0], k.Meta["plan"] = "changed", "changed"
	*k.Expires = 1
	k2, _ := e.srv.KeyByID(id)
	if k2.Roles[0] != "admin" || k2.Meta["plan"] != "pro" || *k2.Expires == 1 {
		t.Fatal("the exported key shares memory with the store")
	}
	b, _ := json.Marshal(k2)
	if len(b) == 0 {
		t.Fatal("Key does not marshal")
	}
}
