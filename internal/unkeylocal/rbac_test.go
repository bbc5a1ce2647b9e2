package unkeylocal

import (
	"slices"
	"strings"
	"testing"
)

type permissionAnswer struct {
	ID, Name, Slug, Description string
}

type roleAnswer struct {
	ID, Name, Description string
	Permissions           []permissionAnswer
}

// slugsOf lists the slugs of permissions sorted, as Unkey answers them in
// no set order.
func slugsOf(perms []permissionAnswer) string {
	s := make([]string, len(perms))
	for i, p := range perms {
		s[i] = p.Slug
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}

func TestPermissionLifecycle(t *testing.T) {
	e := newEnv(t)
	var created struct{ PermissionID string }
	e.post("/v2/permissions.createPermission", map[string]any{"name": "Read documents", "slug": "documents.read", "description": "read"}).ok(t, &created)
	if !strings.HasPrefix(created.PermissionID, "perm_") {
		t.Fatalf("permission ID %q", created.PermissionID)
	}
	for _, ref := range []string{created.PermissionID, "documents.read"} {
		var got permissionAnswer
		e.post("/v2/permissions.getPermission", map[string]any{"permission": ref}).ok(t, &got)
		if got != (permissionAnswer{created.PermissionID, "Read documents", "documents.read", "read"}) {
			t.Fatalf("by %s: %+v", ref, got)
		}
	}
	e.post("/v2/permissions.createPermission", map[string]any{"name": "again", "slug": "documents.read"}).problem(t, 409, TypePermissionAlreadyExists)

	// Deleting it takes it from roles and keys.
	e.post("/v2/permissions.createRole", map[string]any{"name": "reader", "permissions": []string{"documents.read"}}).ok(t, nil)
	ids := e.migrateRaw("perm key")
	e.post("/v2/keys.setPermissions", map[string]any{"keyId": ids[0], "permissions": []string{"documents.read"}}).ok(t, nil)
	e.post("/v2/permissions.deletePermission", map[string]any{"permission": "documents.read"}).ok(t, nil)
	e.post("/v2/permissions.getPermission", map[string]any{"permission": created.PermissionID}).problem(t, 404, TypePermissionNotFound)
	e.post("/v2/permissions.deletePermission", map[string]any{"permission": created.PermissionID}).problem(t, 404, TypePermissionNotFound)
	var role roleAnswer
	e.post("/v2/permissions.getRole", map[string]any{"role": "reader"}).ok(t, &role)
	if len(role.Permissions) != 0 {
		t.Errorf("role kept a deleted permission: %+v", role)
	}
	if k, _ := e.srv.KeyByID(ids[0]); len(k.Permissions) != 0 {
		t.Errorf("key kept a deleted permission: %v", k.Permissions)
	}
}

func TestRoleLifecycle(t *testing.T) {
	e := newEnv(t)
	e.post("/v2/permissions.createPermission", map[string]any{"name": "a", "slug": "a.read"}).ok(t, nil)
	var created struct{ RoleID string }
	e.post("/v2/permissions.createRole", map[string]any{"name": "editor", "description": "edits", "permissions": []string{"b.write", "a.read"}}).ok(t, &created)
	var role roleAnswer
	e.post("/v2/permissions.getRole", map[string]any{"role": created.RoleID}).ok(t, &role)
	if role.Name != "editor" || role.Description != "edits" || slugsOf(role.Permissions) != "a.read,b.write" {
		t.Fatalf("%+v", role)
	}
	e.post("/v2/permissions.createRole", map[string]any{"name": "editor"}).problem(t, 409, TypeRoleAlreadyExists)

	var set []permissionAnswer
	e.post("/v2/permissions.setRolePermissions", map[string]any{"roleId": created.RoleID, "permissions": []string{"c.delete", "a.read"}}).ok(t, &set)
	if slugsOf(set) != "a.read,c.delete" {
		t.Fatalf("set: %+v", set)
	}
	e.post("/v2/permissions.getRole", map[string]any{"role": "editor"}).ok(t, &role)
	if slugsOf(role.Permissions) != "a.read,c.delete" {
		t.Fatalf("after set: %+v", role)
	}

	// A key verified with the role holds its permissions; deleting the role
	// takes it from the key.
	e.migrate(map[string]any{"hash": NativeHash("role key"), "roles": []string{"editor"}})
	var v struct {
		Valid       bool
		Permissions []string
	}
	e.post("/v2/keys.verifyKey", map[string]any{"key": "role key", "permissions": "c.delete"}).ok(t, &v)
	if slices.Sort(v.Permissions); !v.Valid || strings.Join(v.Permissions, ",") != "a.read,c.delete" {
		t.Fatalf("verify: %+v", v)
	}
	e.post("/v2/permissions.deleteRole", map[string]any{"role": created.RoleID}).ok(t, nil)
	e.post("/v2/permissions.getRole", map[string]any{"role": "editor"}).problem(t, 404, TypeRoleNotFound)
	e.post("/v2/permissions.setRolePermissions", map[string]any{"roleId": created.RoleID, "permissions": []string{}}).problem(t, 404, TypeRoleNotFound)
	if k, _ := e.srv.KeyByHash(NativeHash("role key")); len(k.Roles) != 0 {
		t.Errorf("key kept a deleted role: %v", k.Roles)
	}
}

func TestRBACPermissionsAndWorkspaces(t *testing.T) {
	e := newEnv(t)
	var created struct{ RoleID string }
	e.post("/v2/permissions.createRole", map[string]any{"name": "mine"}).ok(t, &created)
	e.post("/v2/permissions.createPermission", map[string]any{"name": "p", "slug": "p"}).ok(t, nil)

	e.srv.AddRootKey("ws_2", "root_2", "*")
	e.postAs("Bearer root_2", "/v2/permissions.getRole", map[string]any{"role": created.RoleID}).problem(t, 404, TypeRoleNotFound)
	e.postAs("Bearer root_2", "/v2/permissions.deleteRole", map[string]any{"role": "mine"}).problem(t, 404, TypeRoleNotFound)
	e.postAs("Bearer root_2", "/v2/permissions.getPermission", map[string]any{"permission": "p"}).problem(t, 404, TypePermissionNotFound)
	// Names are unique per workspace only.
	e.postAs("Bearer root_2", "/v2/permissions.createRole", map[string]any{"name": "mine"}).ok(t, nil)

	cases := []struct {
		perms []string
		path  string
		body  map[string]any
		want  string
	}{
		{nil, "/v2/permissions.createPermission", map[string]any{"name": "x", "slug": "x"}, "Missing one of these permissions: rbac.*.create_permission"},
		{nil, "/v2/permissions.getPermission", map[string]any{"permission": "p"}, "Missing one of these permissions: rbac.*.read_permission"},
		{nil, "/v2/permissions.deletePermission", map[string]any{"permission": "p"}, "Missing one of these permissions: rbac.*.delete_permission"},
		{nil, "/v2/permissions.createRole", map[string]any{"name": "r"}, "Missing one of these permissions: rbac.*.create_role"},
		{[]string{"rbac.*.create_role"}, "/v2/permissions.createRole", map[string]any{"name": "r", "permissions": []string{"p"}}, "Missing one of these permissions: rbac.*.add_permission_to_role"},
		{[]string{"rbac.*.create_role", "rbac.*.add_permission_to_role"}, "/v2/permissions.createRole", map[string]any{"name": "r", "permissions": []string{"new"}}, "Missing one of these permissions: rbac.*.create_permission"},
		{nil, "/v2/permissions.getRole", map[string]any{"role": "mine"}, "Missing one of these permissions: rbac.*.read_role"},
		{nil, "/v2/permissions.deleteRole", map[string]any{"role": "mine"}, "Missing one of these permissions: rbac.*.delete_role"},
		{[]string{"rbac.*.add_permission_to_role"}, "/v2/permissions.setRolePermissions", map[string]any{"roleId": "mine", "permissions": []string{}}, "Missing one of these permissions: rbac.*.remove_permission_from_role"},
	}
	for i, c := range cases {
		key := "limited_" + string(rune('a'+i))
		e.srv.AddRootKey(e.seed.WorkspaceID, key, append(c.perms, "api.*.read_key")...)
		d := e.postAs("Bearer "+key, c.path, c.body).problem(t, 403, TypeInsufficientPermissions)
		if d != c.want {
			t.Errorf("%s: detail %q, want %q", c.path, d, c.want)
		}
	}
	if _, ok := e.srv.workspaces[e.seed.WorkspaceID].roles["r"]; ok {
		t.Error("a refused createRole created the role")
	}

	e.post("/v2/permissions.createPermission", map[string]any{"name": "x", "slug": "bad slug"}).problem(t, 400, TypeInvalidInput)
	e.post("/v2/permissions.createRole", map[string]any{"name": "x", "extra": 1}).problem(t, 400, TypeInvalidInput)
	e.post("/v2/permissions.setRolePermissions", map[string]any{"roleId": "mine"}).problem(t, 400, TypeInvalidInput)
}

// keys.getKey answers a key's direct permissions together with those its
// roles grant, once each (svc/api/routes/v2_keys_get_key/handler.go): a
// client cannot tell them apart.
func TestGetKeyAnswersRolePermissionsToo(t *testing.T) {
	e := newEnv(t)
	role := e.newRole()
	var r roleData
	e.post("/v2/permissions.getRole", map[string]any{"role": role}).ok(t, &r)
	e.post("/v2/permissions.setRolePermissions", map[string]any{"roleId": r.ID, "permissions": []string{"documents.read", "invoices.read"}}).ok(t, nil)
	keyID := e.freshKey()
	e.post("/v2/keys.setRoles", map[string]any{"keyId": keyID, "roles": []string{role}}).ok(t, nil)
	e.post("/v2/keys.setPermissions", map[string]any{"keyId": keyID, "permissions": []string{"invoices.read", "invoices.write"}}).ok(t, nil)
	var got struct {
		Permissions []string `json:"permissions"`
	}
	e.post("/v2/keys.getKey", map[string]any{"keyId": keyID}).ok(t, &got)
	slices.Sort(got.Permissions)
	if want := []string{"documents.read", "invoices.read", "invoices.write"}; !slices.Equal(got.Permissions, want) {
		t.Errorf("permissions %v, want %v", got.Permissions, want)
	}
	if k, _ := e.srv.KeyByID(keyID); len(k.Permissions) != 2 {
		t.Errorf("the key's direct permissions are %v, want the 2 set", k.Permissions)
	}
}

// Where Unkey takes a list of permissions it looks them up by slug only, and
// setRolePermissions takes a role by ID only (unkeyed/unkey
// svc/api/routes/v2_keys_set_permissions, v2_permissions_set_role_permissions).
func TestListsNamePermissionsBySlugAndRolesByID(t *testing.T) {
	e := newEnv(t)
	slug := e.newPermission()
	var perm permissionAnswer
	e.post("/v2/permissions.getPermission", map[string]any{"permission": slug}).ok(t, &perm)
	keyID := e.freshKey()
	e.srv.AddRootKey(e.seed.WorkspaceID, "no_create", "api.*.update_key", "rbac.*.add_permission_to_key", "rbac.*.remove_permission_from_key")
	// An ID is a slug that does not exist yet: creating it needs create_permission.
	e.postAs("Bearer no_create", "/v2/keys.setPermissions", map[string]any{"keyId": keyID, "permissions": []string{perm.ID}}).problem(t, 403, TypeInsufficientPermissions)
	e.post("/v2/keys.setPermissions", map[string]any{"keyId": keyID, "permissions": []string{perm.ID}}).ok(t, nil)
	if k, _ := e.srv.KeyByID(keyID); len(k.Permissions) != 1 || k.Permissions[0] != perm.ID {
		t.Errorf("the key's permissions are %v, want a new one of slug %s", k.Permissions, perm.ID)
	}
	role := e.newRole()
	d := e.post("/v2/permissions.setRolePermissions", map[string]any{"roleId": role, "permissions": []string{slug}}).problem(t, 404, TypeRoleNotFound)
	if d != "The requested role does not exist." {
		t.Errorf("detail %q", d)
	}
}
