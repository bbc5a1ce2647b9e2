package unkeylocal

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// target is a request to an endpoint and the API it acts on.
type target struct {
	body  map[string]any
	apiID string
	// verifyOK marks a keys.verifyKey request that must verify as VALID.
	verifyOK bool
}

// permissionFixtures make, for every endpoint, a fresh request that
// succeeds for a root key with the permissions the endpoint needs (things
// it deletes are made anew each time).
var permissionFixtures = map[string]func(e *env) target{
	"/v2/keys.migrateKeys": func(e *env) target {
		return target{map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID,
			"keys": []map[string]any{{"hash": NativeHash(newID("fixture"))}}}, e.seed.APIID, false}
	},
	"/v2/keys.updateKey": func(e *env) target {
		return target{map[string]any{"keyId": e.freshKey(), "name": "renamed"}, e.seed.APIID, false}
	},
	"/v2/keys.setRoles": func(e *env) target {
		e.srv.AddRole(e.seed.WorkspaceID, "admin")
		return target{map[string]any{"keyId": e.freshKey(), "roles": []string{"admin"}}, e.seed.APIID, false}
	},
	"/v2/keys.setPermissions": func(e *env) target {
		e.migrate(map[string]any{"hash": NativeHash(newID("perm_holder")), "permissions": []string{"documents.read"}})
		return target{map[string]any{"keyId": e.freshKey(), "permissions": []string{"documents.read"}}, e.seed.APIID, false}
	},
	"/v2/keys.deleteKey": func(e *env) target {
		return target{map[string]any{"keyId": e.freshKey()}, e.seed.APIID, false}
	},
	"/v2/keys.getKey": func(e *env) target {
		return target{map[string]any{"keyId": e.freshKey()}, e.seed.APIID, false}
	},
	"/v2/keys.verifyKey": func(e *env) target {
		raw := newID("sk_fixture")
		e.migrateRaw(raw)
		return target{map[string]any{"key": raw}, e.seed.APIID, true}
	},
	"/v2/apis.getApi": func(e *env) target {
		return target{map[string]any{"apiId": e.seed.APIID}, e.seed.APIID, false}
	},
	"/v2/apis.createApi": func(e *env) target {
		return target{map[string]any{"name": "fixture"}, "", false}
	},
	"/v2/apis.deleteApi": func(e *env) target {
		id := newID("api")
		e.srv.AddAPI(e.seed.WorkspaceID, id, "doomed")
		return target{map[string]any{"apiId": id}, id, false}
	},
	"/v2/apis.listKeys": func(e *env) target {
		return target{map[string]any{"apiId": e.seed.APIID}, e.seed.APIID, false}
	},
	"/v2/keys.createKey": func(e *env) target {
		return target{map[string]any{"apiId": e.seed.APIID}, e.seed.APIID, false}
	},
	"/v2/permissions.createPermission": func(e *env) target {
		return target{map[string]any{"name": "fixture", "slug": newID("fixture")}, "", false}
	},
	"/v2/permissions.getPermission": func(e *env) target {
		return target{map[string]any{"permission": e.newPermission()}, "", false}
	},
	"/v2/permissions.deletePermission": func(e *env) target {
		return target{map[string]any{"permission": e.newPermission()}, "", false}
	},
	"/v2/permissions.createRole": func(e *env) target {
		return target{map[string]any{"name": newID("role")}, "", false}
	},
	"/v2/permissions.getRole": func(e *env) target {
		return target{map[string]any{"role": e.newRole()}, "", false}
	},
	"/v2/permissions.deleteRole": func(e *env) target {
		return target{map[string]any{"role": e.newRole()}, "", false}
	},
	"/v2/permissions.setRolePermissions": func(e *env) target {
		return target{map[string]any{"roleId": e.newRoleID(), "permissions": []string{e.newPermission()}}, "", false}
	},
	"/v2/identities.createIdentity": func(e *env) target {
		return target{map[string]any{"externalId": newID("ext")}, "", false}
	},
	"/v2/identities.getIdentity": func(e *env) target {
		return target{map[string]any{"identity": e.newIdentity()}, "", false}
	},
	"/v2/identities.updateIdentity": func(e *env) target {
		return target{map[string]any{"identity": e.newIdentity(), "meta": map[string]any{"a": 1}}, "", false}
	},
	"/v2/identities.deleteIdentity": func(e *env) target {
		return target{map[string]any{"identity": e.newIdentity()}, "", false}
	},
}

// conditionFixtures make, for every conditional row of endpointPermissions,
// a fresh request that does what the condition says and that a root key
// holding all of the row's permissions is not refused.
var conditionFixtures = map[string]map[condition]func(e *env) target{
	"/v2/keys.createKey": {
		createsPermission: func(e *env) target {
			return target{map[string]any{"apiId": e.seed.APIID, "permissions": []string{newID("new")}}, e.seed.APIID, false}
		},
	},
	"/v2/keys.setPermissions": {
		createsPermission: func(e *env) target {
			return target{map[string]any{"keyId": e.freshKey(), "permissions": []string{newID("new")}}, e.seed.APIID, false}
		},
	},
	"/v2/keys.getKey": {
		decrypts: func(e *env) target {
			return target{map[string]any{"keyId": e.freshKey(), "decrypt": true}, e.seed.APIID, false}
		},
	},
	"/v2/apis.listKeys": {
		decrypts: func(e *env) target {
			return target{map[string]any{"apiId": e.seed.APIID, "decrypt": true}, e.seed.APIID, false}
		},
	},
	"/v2/permissions.createRole": {
		attachesPermissions: func(e *env) target {
			return target{map[string]any{"name": newID("role"), "permissions": []string{e.newPermission()}}, "", false}
		},
		createsPermission: func(e *env) target {
			return target{map[string]any{"name": newID("role"), "permissions": []string{newID("new")}}, "", false}
		},
	},
	"/v2/permissions.setRolePermissions": {
		createsPermission: func(e *env) target {
			return target{map[string]any{"roleId": e.newRoleID(), "permissions": []string{newID("new")}}, "", false}
		},
	},
}

// newPermission creates a permission in the seeded workspace and returns
// its slug.
func (e *env) newPermission() string {
	slug := newID("perm")
	e.post("/v2/permissions.createPermission", map[string]any{"name": slug, "slug": slug}).ok(e.t, nil)
	return slug
}

// newRole creates a role in the seeded workspace and returns its name.
func (e *env) newRole() string {
	name := newID("role")
	e.srv.AddRole(e.seed.WorkspaceID, name)
	return name
}

// newRoleID creates a role in the seeded workspace and returns its ID,
// which permissions.setRolePermissions takes (not a name).
func (e *env) newRoleID() string {
	var r struct {
		RoleID string `json:"roleId"`
	}
	e.post("/v2/permissions.createRole", map[string]any{"name": newID("role")}).ok(e.t, &r)
	return r.RoleID
}

// newIdentity creates an identity in the seeded workspace and returns its
// external ID.
func (e *env) newIdentity() string {
	ext := newID("ext")
	e.post("/v2/identities.createIdentity", map[string]any{"externalId": ext}).ok(e.t, nil)
	return ext
}

// rootKeyWith creates a new root key of the seeded workspace holding
// permissions and returns its Authorization header.
func (e *env) rootKeyWith(permissions ...string) string {
	key := newID("unkey_root")
	e.srv.AddRootKey(e.seed.WorkspaceID, key, permissions...)
	return "Bearer " + key
}

// freshKey migrates a new key into the seeded API and returns its ID.
func (e *env) freshKey() string {
	e.t.Helper()
	return e.migrateRaw(newID("sk_fresh"))[0]
}

// grant is the permissions that hold needs: apiID "*" grants api.*.X, an
// API ID grants api.<apiID>.X.
func grant(needs []string, apiID string) []string {
	out := make([]string, len(needs))
	for i, n := range needs {
		out[i] = strings.ReplaceAll(n, "{apiId}", apiID)
	}
	return out
}

func TestEveryRouteHasAPermissionRow(t *testing.T) {
	for path := range NewServer(Options{}).routes {
		rule, ok := endpointPermissions[path]
		if !ok || len(rule.needs) == 0 {
			t.Errorf("%s: no row in endpointPermissions", path)
		}
		if permissionFixtures[path] == nil {
			t.Errorf("%s: no fixture in permissionFixtures to test its row", path)
		}
	}
}

// TestPermissionTable walks endpointPermissions: a root key holding exactly
// what an endpoint needs (for every API, or for the API at hand) is served,
// and one missing any one permission, or holding it for another API only, is
// refused the way the endpoint refuses.
func TestPermissionTable(t *testing.T) {
	e := newEnv(t)
	for path, rule := range endpointPermissions {
		fixture := permissionFixtures[path]
		if fixture == nil {
			t.Logf("%s: not served here yet", path)
			continue
		}
		t.Run(strings.TrimPrefix(path, "/v2/"), func(t *testing.T) {
			e.t = t
			for _, scope := range []string{"*", "own API"} {
				tg := fixture(e)
				apiID := "*"
				if scope == "own API" {
					apiID = tg.apiID
				}
				exact := grant(rule.needs, apiID)
				e.expectServed(t, "exact "+fmt.Sprint(exact), e.postAs(e.rootKeyWith(exact...), path, tg.body), tg)

				for i, need := range rule.needs {
					without := slices.Delete(slices.Clone(exact), i, i+1)
					tg := fixture(e)
					e.expectDenied(t, rule.denied, alternatives(need, tg.apiID), e.postAs(e.rootKeyWith(without...), path, tg.body))
				}
			}
			if tg := fixture(e); tg.apiID != "" {
				other := grant(rule.needs, "api_other")
				if slices.Equal(other, grant(rule.needs, "*")) {
					return // no per-API permission to get wrong
				}
				first := rule.needs[slices.IndexFunc(rule.needs, func(n string) bool { return strings.Contains(n, "{apiId}") })]
				e.expectDenied(t, rule.denied, alternatives(first, tg.apiID), e.postAs(e.rootKeyWith(other...), path, tg.body))
			}
		})
	}
	e.t = t
}

// TestConditionalPermissions walks the also of endpointPermissions: a
// request doing what a condition says is not refused a root key holding the
// row's needs and all its also, and is refused (403, whatever the row's
// denial) one missing any permission of that condition.
func TestConditionalPermissions(t *testing.T) {
	e := newEnv(t)
	for path, rule := range endpointPermissions {
		for cond, perms := range rule.also {
			fixture := conditionFixtures[path][cond]
			if fixture == nil {
				t.Errorf("%s: no fixture in conditionFixtures for %s", path, cond)
				continue
			}
			t.Run(strings.TrimPrefix(path, "/v2/")+"/"+cond.String(), func(t *testing.T) {
				e.t = t
				all := grant(rule.needs, "*")
				for _, also := range rule.also {
					all = append(all, grant(also, "*")...)
				}
				tg := fixture(e)
				if a := e.postAs(e.rootKeyWith(all...), path, tg.body); a.Status == 403 || a.Status == 404 && a.Error.Type == TypeAPINotFound {
					t.Fatalf("holding %v: refused: %s", all, a)
				}
				for _, need := range perms {
					granted := grant([]string{need}, "*")[0]
					without := slices.DeleteFunc(slices.Clone(all), func(p string) bool { return p == granted })
					tg := fixture(e)
					e.expectDenied(t, denyForbidden, alternatives(need, tg.apiID), e.postAs(e.rootKeyWith(without...), path, tg.body))
				}
			})
		}
	}
	e.t = t
}

func (e *env) expectServed(t *testing.T, who string, a answer, tg target) {
	t.Helper()
	if a.Status != 200 {
		t.Fatalf("%s: want 200, got %s", who, a)
	}
	if tg.verifyOK {
		var v verifyResponse
		a.ok(t, &v)
		if !v.Valid || v.Code != CodeValid {
			t.Fatalf("%s: want a valid key, got %s", who, a.Data)
		}
	}
}

func (e *env) expectDenied(t *testing.T, d denial, alts []string, a answer) {
	t.Helper()
	switch d {
	case denyForbidden:
		detail := a.problem(t, 403, TypeInsufficientPermissions)
		if want := "Missing one of these permissions: " + strings.Join(alts, " or "); detail != want {
			t.Errorf("detail %q, want %q", detail, want)
		}
	case denyAPINotFound:
		a.problem(t, 404, TypeAPINotFound)
	case denyKeyNotFound:
		var v verifyResponse
		a.ok(t, &v)
		if v.Valid || v.Code != CodeNotFound || v.KeyID != "" {
			t.Errorf("want NOT_FOUND without a key ID, got %s", a.Data)
		}
	}
}

func TestSetPermissionsNeedsCreatePermissionForANewOne(t *testing.T) {
	e := newEnv(t)
	rule := endpointPermissions["/v2/keys.setPermissions"]
	e.srv.AddRootKey(e.seed.WorkspaceID, "no_create", grant(rule.needs, "*")...)
	body := map[string]any{"keyId": e.freshKey(), "permissions": []string{"brand.new"}}
	d := e.postAs("Bearer no_create", "/v2/keys.setPermissions", body).problem(t, 403, TypeInsufficientPermissions)
	if d != "Missing one of these permissions: rbac.*.create_permission" {
		t.Errorf("detail %q", d)
	}
	if k, _ := e.srv.KeyByID(body["keyId"].(string)); len(k.Permissions) != 0 {
		t.Errorf("a refused request changed the key: %v", k.Permissions)
	}
	e.srv.AddRootKey(e.seed.WorkspaceID, "create", append(grant(rule.needs, "*"), "rbac.*.create_permission")...)
	e.postAs("Bearer create", "/v2/keys.setPermissions", body).ok(t, nil)
}

// sameAnswer compares two answers but for their request IDs, and for the
// pairs of strings quoted in their error details (the thing each named).
func sameAnswer(a, b answer, quoted ...string) bool {
	if a.Status != b.Status {
		return false
	}
	if a.Error != nil || b.Error != nil {
		if a.Error == nil || b.Error == nil {
			return false
		}
		da, db := a.Error.Detail, b.Error.Detail
		for i := 0; i+1 < len(quoted); i += 2 {
			da, db = strings.ReplaceAll(da, quoted[i], "<ref>"), strings.ReplaceAll(db, quoted[i+1], "<ref>")
		}
		return a.Error.Type == b.Error.Type && da == db
	}
	var x, y any
	_ = json.Unmarshal(a.Data, &x)
	_ = json.Unmarshal(b.Data, &y)
	return fmt.Sprint(x) == fmt.Sprint(y)
}

func TestRootKeyChangesTakeEffectOneRequestLate(t *testing.T) {
	e := newEnv(t)
	get := map[string]any{"apiId": e.seed.APIID}
	e.srv.AddRootKey(e.seed.WorkspaceID, "changing", "api.*.read_key")
	e.postAs("Bearer changing", "/v2/apis.getApi", get).problem(t, 403, TypeInsufficientPermissions)
	e.srv.AddRootKey(e.seed.WorkspaceID, "changing", "api.*.read_api")
	// Unkey's cached copy answers once more.
	e.postAs("Bearer changing", "/v2/apis.getApi", get).problem(t, 403, TypeInsufficientPermissions)
	e.postAs("Bearer changing", "/v2/apis.getApi", get).ok(t, nil)
	e.postAs("Bearer changing", "/v2/apis.getApi", get).ok(t, nil)
	// Taking a permission away is late too, and two changes in a row land
	// as the last one.
	e.srv.AddRootKey(e.seed.WorkspaceID, "changing", "api.*.read_key")
	e.srv.AddRootKey(e.seed.WorkspaceID, "changing")
	e.postAs("Bearer changing", "/v2/apis.getApi", get).ok(t, nil)
	e.postAs("Bearer changing", "/v2/keys.getKey", map[string]any{"keyId": e.freshKey()}).problem(t, 403, TypeInsufficientPermissions)
}
