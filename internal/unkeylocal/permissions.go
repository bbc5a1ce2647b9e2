package unkeylocal

import "strings"

// permissionRule is what one endpoint needs of a root key.
type permissionRule struct {
	// needs must all be held. "api.{apiId}.X" is held as api.<apiId>.X or
	// api.*.X, where <apiId> is the API the request acts on (for the key
	// endpoints, the key's); any other permission is held literally.
	needs []string
	// ifNewPermission are needed as well when the request creates a
	// permission that does not exist yet.
	ifNewPermission []string
	// denied is how the endpoint answers a root key missing one of them.
	denied denial
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
	"/v2/keys.updateKey":   {needs: []string{"api.{apiId}.update_key"}},
	"/v2/keys.setRoles":    {needs: []string{"api.{apiId}.update_key"}},
	"/v2/keys.setPermissions": {
		needs:           []string{"api.{apiId}.update_key", "rbac.*.add_permission_to_key", "rbac.*.remove_permission_from_key"},
		ifNewPermission: []string{"rbac.*.create_permission"},
	},
	"/v2/keys.deleteKey":               {needs: []string{"api.{apiId}.delete_key"}},
	"/v2/keys.getKey":                  {needs: []string{"api.{apiId}.read_key"}},
	"/v2/keys.verifyKey":               {needs: []string{"api.{apiId}.verify_key"}, denied: denyKeyNotFound},
	"/v2/apis.getApi":                  {needs: []string{"api.{apiId}.read_api"}},
	"/v2/apis.createApi":               {needs: []string{"api.*.create_api"}},
	"/v2/apis.deleteApi":               {needs: []string{"api.{apiId}.delete_api"}},
	"/v2/apis.listKeys":                {needs: []string{"api.{apiId}.read_key", "api.{apiId}.read_api"}, denied: denyAPINotFound},
	"/v2/permissions.createRole":       {needs: []string{"rbac.*.create_role"}},
	"/v2/permissions.createPermission": {needs: []string{"rbac.*.create_permission"}},
	"/v2/identities.createIdentity":    {needs: []string{"identity.*.create_identity"}},
	"/v2/ratelimit.setOverride":        {needs: []string{"ratelimit.*.set_override"}},
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

// authorizeNewPermission checks what creating a permission needs beyond
// authorize.
func (c *call) authorizeNewPermission(apiID string) *problem {
	rule := endpointPermissions[c.path]
	return rule.denied.answer(c.rk.missing(rule.ifNewPermission, apiID))
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
