package unkeylocal

import "strings"

// permissionRule is what one endpoint needs of a root key.
type permissionRule struct {
	// needs must all be held. "api.{apiId}.X" is held as api.<apiId>.X or
	// api.*.X, where <apiId> is the API the request acts on (for the key
	// endpoints, the key's); any other permission is held literally.
	needs []string
	// also are needed as well, on top of needs, by a request that does what
	// their condition says. Missing one is always a 403, even where missing
	// a need is not (apis.listKeys with decrypt).
	also map[condition][]string
	// denied is how the endpoint answers a root key missing one of needs.
	denied denial
}

// condition is something a request may do that needs more permissions.
type condition int

const (
	// createsPermission: the request names a permission that does not
	// exist yet, which Unkey creates.
	createsPermission condition = iota
	// attachesPermissions: the request gives a new role permissions.
	attachesPermissions
	// decrypts: the request asks for keys' plaintext (decrypt: true).
	decrypts
)

func (c condition) String() string {
	return [...]string{"createsPermission", "attachesPermissions", "decrypts"}[c]
}

// denial is how an endpoint refuses a root key without the permissions.
type denial int

const (
	// denyForbidden is a 403 insufficient_permissions.
	denyForbidden denial = iota
	// denyAPINotFound is a 404 api_not_found, as apis.listKeys answers.
	denyAPINotFound
	// denyKeyNotFound is keys.verifyKey's 200 {valid: false, code: NOT_FOUND}.
	denyKeyNotFound
)

// endpointPermissions is the one table of the permissions each endpoint
// checks, as Unkey's server checks them; one row per endpoint.
var endpointPermissions = map[string]permissionRule{
	"/v2/keys.migrateKeys": {needs: []string{"api.{apiId}.create_key"}},
	// keys.createKey answers a missing create_key as a 404 api_not_found
	// (MaskInsufficientPermissionsAsNotFound in v2_keys_create_key/handler.go),
	// and creates missing permissions without create_permission.
	"/v2/keys.createKey": {needs: []string{"api.{apiId}.create_key"}, denied: denyAPINotFound},
	"/v2/keys.updateKey": {needs: []string{"api.{apiId}.update_key"}},
	"/v2/keys.setRoles":  {needs: []string{"api.{apiId}.update_key"}},
	"/v2/keys.setPermissions": {
		needs: []string{"api.{apiId}.update_key", "rbac.*.add_permission_to_key", "rbac.*.remove_permission_from_key"},
		also:  map[condition][]string{createsPermission: {"rbac.*.create_permission"}},
	},
	"/v2/keys.deleteKey": {needs: []string{"api.{apiId}.delete_key"}},
	"/v2/keys.getKey": {
		needs: []string{"api.{apiId}.read_key"},
		also:  map[condition][]string{decrypts: {"api.{apiId}.decrypt_key"}},
	},
	"/v2/keys.verifyKey": {needs: []string{"api.{apiId}.verify_key"}, denied: denyKeyNotFound},
	"/v2/apis.getApi":    {needs: []string{"api.{apiId}.read_api"}},
	"/v2/apis.createApi": {needs: []string{"api.*.create_api"}},
	"/v2/apis.deleteApi": {needs: []string{"api.{apiId}.delete_api"}},
	"/v2/apis.listKeys": {
		needs:  []string{"api.{apiId}.read_key", "api.{apiId}.read_api"},
		also:   map[condition][]string{decrypts: {"api.{apiId}.decrypt_key"}},
		denied: denyAPINotFound,
	},
	"/v2/permissions.createPermission": {needs: []string{"rbac.*.create_permission"}},
	"/v2/permissions.getPermission":    {needs: []string{"rbac.*.read_permission"}},
	"/v2/permissions.deletePermission": {needs: []string{"rbac.*.delete_permission"}},
	"/v2/permissions.createRole": {
		needs: []string{"rbac.*.create_role"},
		also: map[condition][]string{
			attachesPermissions: {"rbac.*.add_permission_to_role"},
			createsPermission:   {"rbac.*.create_permission"},
		},
	},
	"/v2/permissions.getRole":    {needs: []string{"rbac.*.read_role"}},
	"/v2/permissions.deleteRole": {needs: []string{"rbac.*.delete_role"}},
	"/v2/permissions.setRolePermissions": {
		needs: []string{"rbac.*.add_permission_to_role", "rbac.*.remove_permission_from_role"},
		also:  map[condition][]string{createsPermission: {"rbac.*.create_permission"}},
	},
	"/v2/identities.createIdentity": {needs: []string{"identity.*.create_identity"}},
	"/v2/identities.getIdentity":    {needs: []string{"identity.*.read_identity"}},
	"/v2/identities.updateIdentity": {needs: []string{"identity.*.update_identity"}},
	"/v2/identities.deleteIdentity": {needs: []string{"identity.*.delete_identity"}},
	"/v2/ratelimit.setOverride":     {needs: []string{"ratelimit.*.set_override"}},
}

// alternatives are the permissions any one of which holds a need, in the
// order Unkey's error detail names them.
func alternatives(need, apiID string) []string {
	rest, perAPI := strings.CutPrefix(need, "api.{apiId}.")
	if !perAPI {
		return []string{need}
	}
	return []string{"api." + apiID + "." + rest, "api.*." + rest}
}

// authorize checks the root key of a call against its endpoint's row, for
// the API the call acts on. It answers as the endpoint refuses.
func (c *call) authorize(apiID string) *problem {
	rule := endpointPermissions[c.path]
	return rule.denied.answer(c.rk.missing(rule.needs, apiID))
}

// allowed reports whether the root key of a call holds what its endpoint
// needs for an API.
func (c *call) allowed(apiID string) bool { return c.authorize(apiID) == nil }

// authorizeAlso checks what a request doing cond needs beyond authorize.
func (c *call) authorizeAlso(cond condition, apiID string) *problem {
	return denyForbidden.answer(c.rk.missing(endpointPermissions[c.path].also[cond], apiID))
}

// missing returns the alternatives of the first need the root key does not
// hold, or nil.
func (rk *rootKey) missing(needs []string, apiID string) []string {
	for _, need := range needs {
		alts := alternatives(need, apiID)
		held := false
		for _, p := range alts {
			held = held || rk.has(p)
		}
		if !held {
			return alts
		}
	}
	return nil
}

func (d denial) answer(missing []string) *problem {
	if missing == nil {
		return nil
	}
	switch d {
	case denyAPINotFound:
		return apiNotFound()
	case denyKeyNotFound:
		// The handler turns this into the NOT_FOUND verification.
		return notFound(TypeKeyNotFound, "")
	}
	return forbidden(missing...)
}
