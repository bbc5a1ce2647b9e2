package provider

import (
	"strings"
)

// rootKeyPermission is one permission a root key needs for an operation.
type rootKeyPermission struct {
	permission string // as Unkey names it; api.* also works as api.<API ID>
	when       string // which operations need it
}

// resourcePermissions is what each resource and data source needs of the
// root key, from Unkey's OpenAPI document and its server. The resource and
// data source pages render it; it is the one place to keep it.
var resourcePermissions = map[string][]rootKeyPermission{
	"unkey_api": {
		{"api.*.create_api", "create"},
		{"api.*.read_api", "read, plan"},
		{"api.*.delete_api", "destroy"},
	},
	"unkey_key_migration": {
		{"api.*.create_key", "create, adding keys"},
		{"api.*.read_api", "read, plan"},
		{"api.*.update_key", "changing a key's settings, roles or permissions"},
		{"rbac.*.add_permission_to_key, rbac.*.remove_permission_from_key", "changing a key's permissions"},
		{"api.*.delete_key", "removing keys under `deletion_policy = \"delete\"`"},
	},
	"unkey_permission": {
		{"rbac.*.create_permission", "create"},
		{"rbac.*.read_permission", "read, plan, import"},
		{"rbac.*.delete_permission", "destroy"},
	},
	"unkey_role": {
		{"rbac.*.create_role", "create"},
		{"rbac.*.read_role", "read, plan, import"},
		{"rbac.*.add_permission_to_role, rbac.*.remove_permission_from_role", "setting the role's permissions"},
		{"rbac.*.create_permission", "permissions given by a slug that does not exist yet"},
		{"rbac.*.delete_role", "destroy"},
	},
	"unkey_identity": {
		{"identity.*.create_identity", "create"},
		{"identity.*.read_identity", "read, plan, import, adopting an existing identity"},
		{"identity.*.update_identity", "update, adopting an existing identity"},
		{"identity.*.delete_identity", "destroy"},
	},
	"unkey_key": {
		{"api.*.create_key", "create"},
		{"api.*.read_key", "read, plan, import"},
		{"api.*.update_key", "update"},
		{"rbac.*.add_permission_to_key, rbac.*.remove_permission_from_key", "changing the key's permissions"},
		{"rbac.*.create_permission", "permissions given by a slug that does not exist yet"},
		{"api.*.delete_key", "destroy"},
	},
	"data.unkey_permission": {{"rbac.*.read_permission", "read"}},
	"data.unkey_role":       {{"rbac.*.read_role", "read"}},
	"data.unkey_identity":   {{"identity.*.read_identity", "read"}},
}

// permissionsSection renders a resource's root key permissions as a
// Markdown section for its description (and so its documentation page).
func permissionsSection(typeName string) string {
	var b strings.Builder
	b.WriteString("\n\n**Root key permissions** (`api.*` may also be `api.<API ID>`):\n\n| Permission | Needed for |\n|---|---|\n")
	for _, p := range resourcePermissions[typeName] {
		names := strings.Split(p.permission, ", ")
		for i, n := range names {
			names[i] = "`" + n + "`"
		}
		b.WriteString("| " + strings.Join(names, " and ") + " | " + p.when + " |\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
