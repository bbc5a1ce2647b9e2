package unkeylocal

import (
	"slices"
	"testing"
)

// crossCase is a request a root key of another workspace sends naming a
// thing of the seeded workspace (theirs), and the same request naming a
// thing that exists nowhere (absent). A create succeeds alike for both, with
// answers that differ by the new IDs.
type crossCase struct {
	name           string
	theirs, absent map[string]any
	creates        bool
}

// seeded is what the seeded workspace holds, and the other workspace's own
// API, migration, key and role, for the requests of crossCases.
type seeded struct {
	keyID, raw                             string
	permSlug, permID                       string
	roleName, roleID                       string
	identityExt, identityID                string
	otherKeyID, otherRoleName, otherRoleID string
	otherAPIID, otherMigrationID           string
	// e makes a fresh thing of the seeded workspace for each create, which
	// then takes its name in the other workspace.
	e *env
}

// crossCases has, for every route of the server, the requests that name a
// thing of a workspace by ID or name (nil for a route that names none).
// TestOtherWorkspacesLookMissing fails for a route missing here, so a new
// endpoint cannot be forgotten.
var crossCases = map[string]func(s seeded) []crossCase{
	"/v2/apis.createApi": nil, // an API's name is not unique, and names nothing
	"/v2/keys.migrateKeys": func(s seeded) []crossCase {
		hash := func(h string) []map[string]any { return []map[string]any{{"hash": NativeHash(h)}} }
		return []crossCase{
			{"their migration and API", map[string]any{"migrationId": "mig_local_sha256", "apiId": "api_local", "keys": hash("x1")},
				map[string]any{"migrationId": s.otherMigrationID, "apiId": "api_missing", "keys": hash("x1")}, false},
			{"their migration, own API", map[string]any{"migrationId": "mig_local_sha256", "apiId": s.otherAPIID, "keys": hash("x2")},
				map[string]any{"migrationId": "mig_missing", "apiId": s.otherAPIID, "keys": hash("x2")}, false},
		}
	},
	"/v2/keys.createKey": func(s seeded) []crossCase {
		return []crossCase{
			{"their API", map[string]any{"apiId": "api_local"}, map[string]any{"apiId": "api_missing"}, false},
			{"their role", map[string]any{"apiId": s.otherAPIID, "roles": []string{s.roleName}}, map[string]any{"apiId": s.otherAPIID, "roles": []string{"role_missing"}}, false},
			{"their permission's slug", map[string]any{"apiId": s.otherAPIID, "permissions": []string{s.e.newPermission()}},
				map[string]any{"apiId": s.otherAPIID, "permissions": []string{newID("perm")}}, true},
		}
	},
	"/v2/keys.getKey":    keyCase(func(id string) map[string]any { return map[string]any{"keyId": id} }),
	"/v2/keys.updateKey": keyCase(func(id string) map[string]any { return map[string]any{"keyId": id, "name": "x"} }),
	"/v2/keys.deleteKey": keyCase(func(id string) map[string]any { return map[string]any{"keyId": id} }),
	"/v2/keys.setRoles": func(s seeded) []crossCase {
		return []crossCase{
			{"their key", map[string]any{"keyId": s.keyID, "roles": []string{s.otherRoleName}}, map[string]any{"keyId": "key_missing", "roles": []string{s.otherRoleName}}, false},
			{"their role", map[string]any{"keyId": s.otherKeyID, "roles": []string{s.roleName}}, map[string]any{"keyId": s.otherKeyID, "roles": []string{"role_missing"}}, false},
			{"their role by ID", map[string]any{"keyId": s.otherKeyID, "roles": []string{s.roleID}}, map[string]any{"keyId": s.otherKeyID, "roles": []string{"role_missing00000"}}, false},
		}
	},
	"/v2/keys.setPermissions": func(s seeded) []crossCase {
		return []crossCase{
			{"their key", map[string]any{"keyId": s.keyID, "permissions": []string{"p"}}, map[string]any{"keyId": "key_missing", "permissions": []string{"p"}}, false},
			{"their permission's slug", map[string]any{"keyId": s.otherKeyID, "permissions": []string{s.e.newPermission()}},
				map[string]any{"keyId": s.otherKeyID, "permissions": []string{newID("perm")}}, true},
		}
	},
	"/v2/keys.verifyKey": func(s seeded) []crossCase {
		return []crossCase{
			{"their key", map[string]any{"key": s.raw}, map[string]any{"key": "sk_missing"}, false},
			{"their key and migration", map[string]any{"key": s.raw, "migrationId": "mig_local_sha256"}, map[string]any{"key": "sk_missing", "migrationId": "mig_missing"}, false},
		}
	},
	"/v2/apis.getApi":    apiCase,
	"/v2/apis.deleteApi": apiCase,
	"/v2/apis.listKeys":  apiCase,
	"/v2/permissions.createPermission": func(s seeded) []crossCase {
		return []crossCase{{"their slug", map[string]any{"name": "p", "slug": s.e.newPermission()}, map[string]any{"name": "p", "slug": newID("perm")}, true}}
	},
	"/v2/permissions.getPermission":    permissionCase,
	"/v2/permissions.deletePermission": permissionCase,
	"/v2/permissions.createRole": func(s seeded) []crossCase {
		return []crossCase{
			{"their name", map[string]any{"name": s.e.newRole()}, map[string]any{"name": newID("role")}, true},
			{"their permission's slug", map[string]any{"name": newID("role"), "permissions": []string{s.e.newPermission()}},
				map[string]any{"name": newID("role"), "permissions": []string{newID("perm")}}, true},
		}
	},
	"/v2/permissions.getRole":    roleCase,
	"/v2/permissions.deleteRole": roleCase,
	"/v2/permissions.setRolePermissions": func(s seeded) []crossCase {
		return []crossCase{
			{"their role by name", map[string]any{"roleId": s.roleName, "permissions": []string{"p"}}, map[string]any{"roleId": "role_missing", "permissions": []string{"p"}}, false},
			{"their role by ID", map[string]any{"roleId": s.roleID, "permissions": []string{"p"}}, map[string]any{"roleId": "role_missing00000", "permissions": []string{"p"}}, false},
			{"their permission's slug", map[string]any{"roleId": s.otherRoleID, "permissions": []string{s.e.newPermission()}},
				map[string]any{"roleId": s.otherRoleID, "permissions": []string{newID("perm")}}, true},
		}
	},
	"/v2/identities.createIdentity": func(s seeded) []crossCase {
		return []crossCase{{"their external ID", map[string]any{"externalId": s.e.newIdentity()}, map[string]any{"externalId": newID("ext")}, true}}
	},
	"/v2/identities.getIdentity":    identityCase(nil),
	"/v2/identities.updateIdentity": identityCase(map[string]any{"meta": map[string]any{"changed": true}}),
	"/v2/identities.deleteIdentity": identityCase(nil),
}

func keyCase(body func(keyID string) map[string]any) func(s seeded) []crossCase {
	return func(s seeded) []crossCase {
		return []crossCase{{"their key", body(s.keyID), body("key_missing"), false}}
	}
}

func apiCase(seeded) []crossCase {
	return []crossCase{{"their API", map[string]any{"apiId": "api_local"}, map[string]any{"apiId": "api_missing"}, false}}
}

func permissionCase(s seeded) []crossCase {
	return []crossCase{
		{"their slug", map[string]any{"permission": s.permSlug}, map[string]any{"permission": "perm.missing"}, false},
		{"their ID", map[string]any{"permission": s.permID}, map[string]any{"permission": "perm_missing0000"}, false},
	}
}

func roleCase(s seeded) []crossCase {
	return []crossCase{
		{"their name", map[string]any{"role": s.roleName}, map[string]any{"role": "role_missing"}, false},
		{"their ID", map[string]any{"role": s.roleID}, map[string]any{"role": "role_missing00000"}, false},
	}
}

func identityCase(extra map[string]any) func(s seeded) []crossCase {
	with := func(ref string) map[string]any {
		b := map[string]any{"identity": ref}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	return func(s seeded) []crossCase {
		return []crossCase{
			{"their external ID", with(s.identityExt), with("ext_missing"), false},
			{"their ID", with(s.identityID), with("id_missing0000000"), false},
		}
	}
}

// TestOtherWorkspacesLookMissing: for every endpoint, a root key of another
// workspace holding every permission gets exactly the answer it would get
// for a thing that does not exist, and changes nothing of the workspace.
func TestOtherWorkspacesLookMissing(t *testing.T) {
	e := newEnv(t)
	if e.seed.APIID != "api_local" || e.seed.MigrationID != "mig_local_sha256" {
		t.Fatalf("the cases name the default seed's API and migration; the seed is %+v", e.seed)
	}
	s := seedBothWorkspaces(e)
	const other = "Bearer root_2"
	routes := make([]string, 0, len(e.srv.routes))
	for path := range e.srv.routes {
		routes = append(routes, path)
	}
	slices.Sort(routes)
	// Lookups first: a create takes its name in the other workspace.
	var creates []func()
	for _, path := range routes {
		cases, listed := crossCases[path]
		if !listed {
			t.Errorf("%s: no entry in crossCases: say which IDs or names of a workspace it takes", path)
			continue
		}
		if cases == nil {
			continue
		}
		for _, tc := range cases(s) {
			check := func() {
				theirs, absent := e.postAs(other, path, tc.theirs), e.postAs(other, path, tc.absent)
				switch {
				case tc.creates && (theirs.Status != 200 || absent.Status != 200):
					t.Errorf("%s, %s: a name taken only in another workspace answers\n  %s\nbut a fresh one\n  %s", path, tc.name, theirs, absent)
				case !tc.creates && !sameAnswer(theirs, absent, differingStrings(tc.theirs, tc.absent)...):
					t.Errorf("%s, %s: another workspace's thing answers\n  %s\nbut a missing one\n  %s", path, tc.name, theirs, absent)
				case !tc.creates && theirs.Status == 200 && path != "/v2/keys.verifyKey":
					t.Errorf("%s, %s: served another workspace: %s", path, tc.name, theirs)
				}
			}
			if tc.creates {
				creates = append(creates, check)
			} else {
				check()
			}
		}
	}
	for _, check := range creates {
		check()
	}
	s.untouched(t, e)
}

// seedBothWorkspaces makes in the seeded workspace a key, a permission, a
// role and an identity, and in a second workspace (root key root_2 with
// every permission) an API, a migration, a key and a role of its own.
func seedBothWorkspaces(e *env) seeded {
	s := seeded{e: e, keyID: e.freshKey(), raw: newID("sk_ws1"), otherAPIID: "api_ws2", otherMigrationID: "mig_ws2", otherRoleName: "role_ws2"}
	e.migrateRaw(s.raw)
	s.permSlug = e.newPermission()
	var perm struct {
		ID string `json:"id"`
	}
	e.post("/v2/permissions.getPermission", map[string]any{"permission": s.permSlug}).ok(e.t, &perm)
	s.permID = perm.ID
	s.roleName = newID("role")
	var role struct {
		RoleID string `json:"roleId"`
	}
	e.post("/v2/permissions.createRole", map[string]any{"name": s.roleName}).ok(e.t, &role)
	s.roleID = role.RoleID
	s.identityExt = newID("ext")
	var identity struct {
		IdentityID string `json:"identityId"`
	}
	e.post("/v2/identities.createIdentity", map[string]any{"externalId": s.identityExt, "meta": map[string]any{"kept": true}}).ok(e.t, &identity)
	s.identityID = identity.IdentityID

	e.srv.AddRootKey("ws_2", "root_2", "*")
	e.srv.AddAPI("ws_2", s.otherAPIID, "theirs")
	e.srv.AddMigration("ws_2", s.otherMigrationID, AlgorithmSHA256)
	e.srv.AddRole("ws_2", s.otherRoleName)
	var otherRole roleData
	e.postAs("Bearer root_2", "/v2/permissions.getRole", map[string]any{"role": s.otherRoleName}).ok(e.t, &otherRole)
	s.otherRoleID = otherRole.ID
	var own struct {
		KeyID string `json:"keyId"`
	}
	e.postAs("Bearer root_2", "/v2/keys.createKey", map[string]any{"apiId": s.otherAPIID}).ok(e.t, &own)
	s.otherKeyID = own.KeyID
	return s
}

// untouched checks that the seeded workspace's things are as they were made.
func (s seeded) untouched(t *testing.T, e *env) {
	t.Helper()
	if k, ok := e.srv.KeyByID(s.keyID); !ok || k.Deleted || k.Name != "" || len(k.Roles) != 0 || len(k.Permissions) != 0 {
		t.Errorf("another workspace changed the key: %+v", k)
	}
	if _, ok := e.srv.KeyByHash(NativeHash("x1")); ok {
		t.Error("another workspace migrated into this one")
	}
	e.post("/v2/apis.getApi", map[string]any{"apiId": e.seed.APIID}).ok(t, nil)
	e.post("/v2/permissions.getPermission", map[string]any{"permission": s.permID}).ok(t, nil)
	var role roleData
	e.post("/v2/permissions.getRole", map[string]any{"role": s.roleID}).ok(t, &role)
	if len(role.Permissions) != 0 {
		t.Errorf("another workspace gave the role permissions: %+v", role.Permissions)
	}
	var identity identityData
	e.post("/v2/identities.getIdentity", map[string]any{"identity": s.identityID}).ok(t, &identity)
	if identity.Meta["kept"] != true || identity.Meta["changed"] != nil {
		t.Errorf("another workspace changed the identity's meta: %v", identity.Meta)
	}
}

// differingStrings lists, in pairs, the strings (top level or in lists) in
// which two request bodies differ: an error detail may quote them.
func differingStrings(a, b map[string]any) []string {
	var out []string
	for k, va := range a {
		switch x := va.(type) {
		case string:
			if y, ok := b[k].(string); ok && x != y {
				out = append(out, x, y)
			}
		case []string:
			if y, ok := b[k].([]string); ok && len(x) == len(y) {
				for i := range x {
					if x[i] != y[i] {
						out = append(out, x[i], y[i])
					}
				}
			}
		}
	}
	return out
}

// Unkey checks read_api (delete_api) for the API ID asked about before it
// looks the API up: without it, a root key gets 403 for an API of another
// workspace and for one that does not exist alike, so a 403 proves nothing
// of the workspace (svc/api/routes/v2_apis_get_api/handler.go).
func TestAForbiddenAPIProvesNothingOfItsWorkspace(t *testing.T) {
	e := newEnv(t)
	e.srv.AddRootKey("ws_2", "root_2_keys_only", "api.*.read_key", "api.*.delete_key")
	for _, path := range []string{"/v2/apis.getApi", "/v2/apis.deleteApi"} {
		theirs := e.postAs("Bearer root_2_keys_only", path, map[string]any{"apiId": e.seed.APIID})
		absent := e.postAs("Bearer root_2_keys_only", path, map[string]any{"apiId": "api_missing"})
		theirs.problem(t, 403, TypeInsufficientPermissions)
		absent.problem(t, 403, TypeInsufficientPermissions)
	}
	e.post("/v2/apis.getApi", map[string]any{"apiId": e.seed.APIID}).ok(t, nil)
}
