package provider

import (
	"fmt"
	"strings"
)

// permissionNeed is one thing the provider does and the root key permissions
// Unkey's server checks for it (read from its handlers).
type permissionNeed struct {
	// ID names the row for the tests that prove it against the local API.
	ID string
	// Type is the resource, or data source as data.<type>, doing it.
	Type string
	// What is the operation as a user of Type sees it.
	What string
	// Endpoints are the Unkey endpoints it calls.
	Endpoints []string
	// Needs are the permissions, every one of them required. Each api.*.X
	// may instead be api.<apiId>.X, which limits it to one API.
	Needs []string
	// Also are required as well when AlsoWhen is true of the operation.
	Also     []string
	AlsoWhen string
	// Optional: without Needs the provider goes on, only checking less.
	Optional bool
	// Note says what the columns cannot.
	Note string
}

const (
	whenNewPermission = "when a permission does not exist yet (Unkey creates it)"
	refreshNote       = "the refresh before it"
)

// rootKeyPermissions is the one table of root key permissions. The provider
// docs and the migration guide carry it whole, as rendered by
// permissionsMarkdown (TestPermissionsTableInDocs keeps them equal); each
// resource and data source page carries its own rows, as rendered by
// permissionsSection. TestAccRootKeyPermissions proves each row against the
// local API.
var rootKeyPermissions = []permissionNeed{
	{ID: "migrate", Type: "unkey_key_migration", What: "create, and hashes added", Endpoints: []string{"keys.migrateKeys"},
		Needs: []string{"api.*.create_key"}, Note: "roles, permissions and identities the keys name are created on the fly"},
	{ID: "check", Type: "unkey_key_migration", What: "plan and refresh (is the API there for this root key?)", Endpoints: []string{"apis.getApi"},
		Needs: []string{"api.*.read_api"}, Optional: true, Note: "without it, a wrong `api_id` or root key is found by the apply instead of the plan"},
	{ID: "update", Type: "unkey_key_migration", What: "a migrated key's `name`, `external_id`, `meta`, `expires`, `enabled`, `credits` or `ratelimits` changed",
		Endpoints: []string{"keys.updateKey"}, Needs: []string{"api.*.update_key"}},
	{ID: "roles", Type: "unkey_key_migration", What: "a migrated key's `roles` changed", Endpoints: []string{"keys.setRoles"},
		Needs: []string{"api.*.update_key"}, Note: "the roles must exist already"},
	{ID: "permissions", Type: "unkey_key_migration", What: "a migrated key's `permissions` changed", Endpoints: []string{"keys.setPermissions"},
		Needs: []string{"api.*.update_key", "rbac.*.add_permission_to_key", "rbac.*.remove_permission_from_key"},
		Also:  []string{"rbac.*.create_permission"}, AlsoWhen: whenNewPermission},
	{ID: "delete", Type: "unkey_key_migration", What: "with `deletion_policy = \"delete\"`: hashes removed, or destroy", Endpoints: []string{"keys.deleteKey"},
		Needs: []string{"api.*.delete_key"}, Note: "with `abandon` (the default), removing and destroying call nothing"},

	{ID: "api_create", Type: "unkey_api", What: "create", Endpoints: []string{"apis.createApi"}, Needs: []string{"api.*.create_api"}},
	{ID: "api_read", Type: "unkey_api", What: "plan, refresh and import", Endpoints: []string{"apis.getApi"}, Needs: []string{"api.*.read_api"}},
	{ID: "api_delete", Type: "unkey_api", What: "destroy", Endpoints: []string{"apis.getApi", "apis.deleteApi"},
		Needs: []string{"api.*.read_api", "api.*.delete_api"}, Note: "`read_api` for " + refreshNote},

	{ID: "permission_create", Type: "unkey_permission", What: "create", Endpoints: []string{"permissions.createPermission"},
		Needs: []string{"rbac.*.create_permission"}},
	{ID: "permission_read", Type: "unkey_permission", What: "plan, refresh and import", Endpoints: []string{"permissions.getPermission"},
		Needs: []string{"rbac.*.read_permission"}},
	{ID: "permission_delete", Type: "unkey_permission", What: "destroy", Endpoints: []string{"permissions.getPermission", "permissions.deletePermission"},
		Needs: []string{"rbac.*.read_permission", "rbac.*.delete_permission"}, Note: "`read_permission` for " + refreshNote},

	{ID: "role_create", Type: "unkey_role", What: "create", Endpoints: []string{"permissions.createRole", "permissions.setRolePermissions"},
		Needs: []string{"rbac.*.create_role"}, Also: []string{"rbac.*.add_permission_to_role", "rbac.*.remove_permission_from_role"},
		AlsoWhen: "with `permissions` (and `rbac.*.create_permission` when one does not exist yet)"},
	{ID: "role_read", Type: "unkey_role", What: "plan, refresh and import", Endpoints: []string{"permissions.getRole"},
		Needs: []string{"rbac.*.read_role"}},
	{ID: "role_permissions", Type: "unkey_role", What: "`permissions` changed", Endpoints: []string{"permissions.getRole", "permissions.setRolePermissions"},
		Needs: []string{"rbac.*.read_role", "rbac.*.add_permission_to_role", "rbac.*.remove_permission_from_role"},
		Also:  []string{"rbac.*.create_permission"}, AlsoWhen: whenNewPermission, Note: "`read_role` for " + refreshNote},
	{ID: "role_delete", Type: "unkey_role", What: "destroy", Endpoints: []string{"permissions.getRole", "permissions.deleteRole"},
		Needs: []string{"rbac.*.read_role", "rbac.*.delete_role"}, Note: "`read_role` for " + refreshNote},

	{ID: "identity_create", Type: "unkey_identity", What: "create", Endpoints: []string{"identities.createIdentity", "identities.getIdentity", "identities.updateIdentity"},
		Needs: []string{"identity.*.create_identity"}, Also: []string{"identity.*.read_identity", "identity.*.update_identity"},
		AlsoWhen: "when Unkey has an identity with the `external_id` already (one a migration created), which is adopted"},
	{ID: "identity_read", Type: "unkey_identity", What: "plan, refresh and import", Endpoints: []string{"identities.getIdentity"},
		Needs: []string{"identity.*.read_identity"}},
	{ID: "identity_update", Type: "unkey_identity", What: "`meta` or `ratelimits` changed", Endpoints: []string{"identities.getIdentity", "identities.updateIdentity"},
		Needs: []string{"identity.*.read_identity", "identity.*.update_identity"}, Note: "`read_identity` for " + refreshNote},
	{ID: "identity_delete", Type: "unkey_identity", What: "destroy", Endpoints: []string{"identities.getIdentity", "identities.deleteIdentity"},
		Needs: []string{"identity.*.read_identity", "identity.*.delete_identity"}, Note: "`read_identity` for " + refreshNote},

	// keys.createKey creates missing permissions without create_permission, and
	// answers a missing create_key as 404 api_not_found (unkeyed/unkey
	// svc/api/routes/v2_keys_create_key/handler.go).
	{ID: "key_create", Type: "unkey_key", What: "create", Endpoints: []string{"keys.createKey"},
		Needs: []string{"api.*.create_key"}, Note: "Unkey answers 404 (API not found), not 403, to a root key without it; permissions the key names are created on the fly"},
	{ID: "key_read", Type: "unkey_key", What: "plan, refresh and import", Endpoints: []string{"keys.getKey"}, Needs: []string{"api.*.read_key"}},
	{ID: "key_update", Type: "unkey_key", What: "`name`, `external_id`, `meta`, `expires`, `enabled`, `credits` or `ratelimits` changed",
		Endpoints: []string{"keys.getKey", "keys.updateKey"}, Needs: []string{"api.*.read_key", "api.*.update_key"}, Note: "`read_key` for " + refreshNote},
	{ID: "key_roles", Type: "unkey_key", What: "`roles` changed", Endpoints: []string{"keys.getKey", "keys.setRoles"},
		Needs: []string{"api.*.read_key", "api.*.update_key"}, Note: "`read_key` for " + refreshNote + "; the roles must exist already"},
	{ID: "key_permissions", Type: "unkey_key", What: "`permissions` changed", Endpoints: []string{"keys.getKey", "keys.setPermissions"},
		Needs: []string{"api.*.read_key", "api.*.update_key", "rbac.*.add_permission_to_key", "rbac.*.remove_permission_from_key"},
		Also:  []string{"rbac.*.create_permission"}, AlsoWhen: whenNewPermission, Note: "`read_key` for " + refreshNote},
	{ID: "key_delete", Type: "unkey_key", What: "destroy", Endpoints: []string{"keys.getKey", "keys.deleteKey"},
		Needs: []string{"api.*.read_key", "api.*.delete_key"}, Note: "`read_key` for " + refreshNote},

	{ID: "data_api", Type: "data.unkey_api", What: "read", Endpoints: []string{"apis.getApi"}, Needs: []string{"api.*.read_api"}},
	{ID: "data_key", Type: "data.unkey_key", What: "read", Endpoints: []string{"keys.getKey"}, Needs: []string{"api.*.read_key"}},
	{ID: "data_permission", Type: "data.unkey_permission", What: "read", Endpoints: []string{"permissions.getPermission"},
		Needs: []string{"rbac.*.read_permission"}},
	{ID: "data_role", Type: "data.unkey_role", What: "read", Endpoints: []string{"permissions.getRole"}, Needs: []string{"rbac.*.read_role"}},
	{ID: "data_identity", Type: "data.unkey_identity", What: "read", Endpoints: []string{"identities.getIdentity"},
		Needs: []string{"identity.*.read_identity"}},
}

// migrationOnlyPermissions is the least-privilege root key of a pipeline
// that only migrates keys into one API.
var migrationOnlyPermissions = []string{"api.<apiId>.create_key", "api.<apiId>.read_api"}

const permissionsTableHead = "| Unkey endpoints | Root key permissions (all of them) |\n"

// permissionsMarkdown renders the whole table and the least-privilege set
// for the provider docs.
func permissionsMarkdown() string {
	var b strings.Builder
	b.WriteString("| What the provider does " + permissionsTableHead + "|---|---|---|\n")
	for _, p := range rootKeyPermissions {
		fmt.Fprintf(&b, "| `%s`: %s %s", p.Type, p.What, permissionsCells(p))
	}
	b.WriteString("\nEach `api.*.X` may instead be `api.<apiId>.X`, which grants it for one API only. ")
	fmt.Fprintf(&b, "A pipeline that only migrates keys into one API (with `deletion_policy = \"abandon\"`, changing no key once migrated) needs no more than `%s` "+
		"(the second only so that plans check the API). ", strings.Join(migrationOnlyPermissions, "` and `"))
	b.WriteString("When Unkey refuses an operation for a missing permission (403), the error names the permissions Unkey asked for.\n")
	return b.String()
}

// permissionsSection renders the rows of one resource or data source
// (data.<type>) as a Markdown section for its description, and so its
// documentation page.
func permissionsSection(typeName string) string {
	var b strings.Builder
	b.WriteString("\n\n**Root key permissions** (each `api.*.X` may instead be `api.<apiId>.X`, which grants it for one API only):\n\n")
	b.WriteString("| Operation " + permissionsTableHead + "|---|---|---|\n")
	for _, p := range rootKeyPermissions {
		if p.Type == typeName {
			fmt.Fprintf(&b, "| %s %s", p.What, permissionsCells(p))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// permissionsCells renders a row's endpoints and permissions columns.
func permissionsCells(p permissionNeed) string {
	needs := codeList(p.Needs)
	if len(p.Also) > 0 {
		needs += "; also " + codeList(p.Also) + " " + p.AlsoWhen
	}
	switch {
	case p.Optional && p.Note != "":
		needs += " (optional: " + p.Note + ")"
	case p.Note != "":
		needs += "; " + p.Note
	}
	return fmt.Sprintf("| %s | %s |\n", codeList(p.Endpoints), needs)
}

func codeList(items []string) string { return "`" + strings.Join(items, "`, `") + "`" }
