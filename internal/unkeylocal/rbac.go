package unkeylocal

import (
	"fmt"
	"slices"
)

// Problem types of the permission, role and identity endpoints.
const (
	TypePermissionNotFound      = "https://unkey.com/docs/errors/unkey/data/permission_not_found"
	TypeIdentityNotFound        = "https://unkey.com/docs/errors/unkey/data/identity_not_found"
	TypePermissionAlreadyExists = "https://unkey.com/docs/errors/unkey/data/permission_already_exists"
	TypeRoleAlreadyExists       = "https://unkey.com/docs/errors/unkey/data/role_already_exists"
	TypeIdentityAlreadyExists   = "https://unkey.com/docs/errors/unkey/data/identity_already_exists"
)

func conflict(typ, detail string) *problem {
	return &problem{status: 409, title: "Conflict", detail: detail, typ: typ}
}

func permissionNotFound(ref string) *problem {
	return notFound(TypePermissionNotFound, fmt.Sprintf("Permission '%s' does not exist.", ref))
}

func roleNotFound(ref string) *problem {
	return notFound(TypeRoleNotFound, fmt.Sprintf("Role '%s' does not exist.", ref))
}

// Schemas, from V2Permissions*RequestBody.

func permissionSlugSchema() *schema { return str().length(1, 128).match(permissionPattern) }

func createPermissionSchema() *schema {
	return object(
		fld("name", str().length(1, 512)),
		fld("slug", permissionSlugSchema()),
		fld("description", str().length(-1, 512)),
	).req("name", "slug")
}

func permissionRefSchema() *schema {
	return object(fld("permission", permissionSlugSchema())).req("permission")
}

func createRoleSchema() *schema {
	return object(
		fld("name", str().length(1, 128)),
		fld("description", str().length(-1, 512)),
		fld("permissions", array(permissionSlugSchema())),
	).req("name")
}

func roleRefSchema() *schema { return object(fld("role", str().length(1, 128))).req("role") }

func setRolePermissionsSchema() *schema {
	return object(
		fld("roleId", str().length(3, 255).match(`^[a-zA-Z0-9_-]+$`)), // ResourceIdentifier
		fld("permissions", array(permissionSlugSchema())),
	).req("roleId", "permissions")
}

// Responses: Permission and Role.

type permissionData struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	Description string `json:"description,omitempty"`
}

type roleData struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Description string           `json:"description,omitempty"`
	Permissions []permissionData `json:"permissions"`
}

func (p *permission) data() permissionData {
	return permissionData{ID: p.id, Name: p.name, Slug: p.slug, Description: p.description}
}

func (s *Server) roleData(r *role) roleData {
	return roleData{ID: r.id, Name: r.name, Description: r.description, Permissions: s.permissionsData(r.permissions)}
}

// permissionsData renders a role's permissions, in a new order each time,
// as Unkey promises none.
func (s *Server) permissionsData(perms []*permission) []permissionData {
	out := make([]permissionData, len(perms))
	for i, p := range perms {
		out[i] = p.data()
	}
	shuffle(s, out)
	return out
}

// permissionByRef finds a permission by ID or slug.
func (ws *workspace) permissionByRef(ref string) *permission {
	if p := ws.permissions[ref]; p != nil {
		return p
	}
	for _, p := range ws.permissions {
		if p.id == ref {
			return p
		}
	}
	return nil
}

// roleByRef finds a role by ID or name.
func (ws *workspace) roleByRef(ref string) *role {
	if r := ws.rolesByID[ref]; r != nil {
		return r
	}
	return ws.roles[ref]
}

// createPermission is permissions.createPermission: slugs are unique in a
// workspace.
func (s *Server) createPermission(c *call) (any, *problem) {
	if p := c.authorize(""); p != nil {
		return nil, p
	}
	name, _ := strField(c.body, "name")
	slug, _ := strField(c.body, "slug")
	description, _ := strField(c.body, "description")
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.workspaceLocked(c.rk.workspace)
	if ws.permissions[slug] != nil {
		return nil, conflict(TypePermissionAlreadyExists, fmt.Sprintf("A permission with slug '%s' already exists in this workspace.", slug))
	}
	perm := ws.permission(slug)
	perm.name, perm.description = name, description
	return struct {
		PermissionID string `json:"permissionId"`
	}{perm.id}, nil
}

// getPermission is permissions.getPermission, by ID or slug.
func (s *Server) getPermission(c *call) (any, *problem) {
	if p := c.authorize(""); p != nil {
		return nil, p
	}
	ref, _ := strField(c.body, "permission")
	s.mu.RLock()
	defer s.mu.RUnlock()
	ws := s.workspaces[c.rk.workspace]
	perm := ws.permissionByRef(ref)
	if perm == nil {
		return nil, permissionNotFound(ref)
	}
	return perm.data(), nil
}

// deletePermission is permissions.deletePermission: the permission leaves
// every role and key of the workspace.
func (s *Server) deletePermission(c *call) (any, *problem) {
	if p := c.authorize(""); p != nil {
		return nil, p
	}
	ref, _ := strField(c.body, "permission")
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.workspaceLocked(c.rk.workspace)
	perm := ws.permissionByRef(ref)
	if perm == nil {
		return nil, permissionNotFound(ref)
	}
	delete(ws.permissions, perm.slug)
	isPerm := func(p *permission) bool { return p == perm }
	for _, r := range ws.roles {
		r.permissions = slices.DeleteFunc(r.permissions, isPerm)
	}
	for _, k := range s.keys {
		if k.workspace == ws.id {
			k.permissions = slices.DeleteFunc(k.permissions, isPerm)
		}
	}
	return struct{}{}, nil
}

// authorizeNewPermissions checks what creating a permission needs when one
// of slugs names no permission of ws yet. Every endpoint that names
// permissions in a list (keys.createKey, keys.setPermissions,
// permissions.createRole, permissions.setRolePermissions) looks them up by
// slug only: an ID is taken for a new slug.
func (c *call) authorizeNewPermissions(ws *workspace, slugs []string, apiID string) *problem {
	for _, slug := range slugs {
		if ws.permissions[slug] == nil {
			return c.authorizeAlso(createsPermission, apiID)
		}
	}
	return nil
}

// resolvePermissions turns slugs into permissions, once each, creating the
// missing ones: the caller has checked authorizeNewPermissions and holds s.mu.
func (ws *workspace) resolvePermissions(slugs []string) []*permission {
	slugs = dedupe(slugs)
	out := make([]*permission, 0, len(slugs))
	seen := make(map[*permission]bool, len(slugs))
	for _, slug := range slugs {
		perm := ws.permission(slug)
		if !seen[perm] {
			seen[perm] = true
			out = append(out, perm)
		}
	}
	return out
}

// createRole is permissions.createRole: names are unique in a workspace;
// the permissions given are attached, missing ones created.
func (s *Server) createRole(c *call) (any, *problem) {
	if p := c.authorize(""); p != nil {
		return nil, p
	}
	name, _ := strField(c.body, "name")
	description, _ := strField(c.body, "description")
	raw, _ := arrField(c.body, "permissions")
	slugs := stringList(raw)
	if len(slugs) > 0 {
		if p := c.authorizeAlso(attachesPermissions, ""); p != nil {
			return nil, p
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.workspaceLocked(c.rk.workspace)
	if ws.roles[name] != nil {
		return nil, conflict(TypeRoleAlreadyExists, fmt.Sprintf("A role with name '%s' already exists in this workspace.", name))
	}
	if p := c.authorizeNewPermissions(ws, slugs, ""); p != nil {
		return nil, p
	}
	r := ws.role(name)
	r.description, r.permissions = description, ws.resolvePermissions(slugs)
	return struct {
		RoleID string `json:"roleId"`
	}{r.id}, nil
}

// getRole is permissions.getRole, by ID or name.
func (s *Server) getRole(c *call) (any, *problem) {
	if p := c.authorize(""); p != nil {
		return nil, p
	}
	ref, _ := strField(c.body, "role")
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.workspaces[c.rk.workspace].roleByRef(ref)
	if r == nil {
		return nil, roleNotFound(ref)
	}
	return s.roleData(r), nil
}

// deleteRole is permissions.deleteRole: the role leaves every key.
func (s *Server) deleteRole(c *call) (any, *problem) {
	if p := c.authorize(""); p != nil {
		return nil, p
	}
	ref, _ := strField(c.body, "role")
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.workspaceLocked(c.rk.workspace)
	r := ws.roleByRef(ref)
	if r == nil {
		return nil, roleNotFound(ref)
	}
	delete(ws.roles, r.name)
	delete(ws.rolesByID, r.id)
	for _, k := range s.keys {
		if k.workspace == ws.id {
			k.roles = slices.DeleteFunc(k.roles, func(x *role) bool { return x == r })
		}
	}
	return struct{}{}, nil
}

// setRolePermissions is permissions.setRolePermissions: the role's direct
// permissions become exactly the ones given.
func (s *Server) setRolePermissions(c *call) (any, *problem) {
	if p := c.authorize(""); p != nil {
		return nil, p
	}
	ref, _ := strField(c.body, "roleId")
	raw, _ := arrField(c.body, "permissions")
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.workspaceLocked(c.rk.workspace)
	// By ID only (LockRoleByIDAndWorkspaceID in
	// v2_permissions_set_role_permissions/handler.go), whatever its name says.
	r := ws.rolesByID[ref]
	if r == nil {
		return nil, notFound(TypeRoleNotFound, "The requested role does not exist.")
	}
	slugs := stringList(raw)
	if p := c.authorizeNewPermissions(ws, slugs, ""); p != nil {
		return nil, p
	}
	r.permissions = ws.resolvePermissions(slugs)
	return s.permissionsData(r.permissions), nil
}

// permissionSlugs returns the slugs of the key's direct permissions.
func (k *keyRec) permissionSlugs() []string {
	out := make([]string, len(k.permissions))
	for i, p := range k.permissions {
		out[i] = p.slug
	}
	return out
}

// rolePermissionSlugs returns the slugs a key holds through its roles.
func (k *keyRec) rolePermissionSlugs() []string {
	var out []string
	for _, r := range k.roles {
		for _, p := range r.permissions {
			out = append(out, p.slug)
		}
	}
	return out
}
