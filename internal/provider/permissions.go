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
	// What is the operation as a user of the provider sees it.
	What string
	// Endpoints are the Unkey endpoints it calls.
	Endpoints []string
	// Needs are the permissions, every one of them required. Each api.*.X
	// may instead be api.<apiId>.X, which limits it to one API.
	Needs []string
	// Optional: without Needs the provider goes on, only checking less.
	Optional bool
	// Note says what the columns cannot.
	Note string
}

// rootKeyPermissions is the one table of root key permissions: the provider
// docs and the migration guide carry it as rendered by permissionsMarkdown
// (TestPermissionsTableInDocs keeps them equal), and
// TestAccRootKeyPermissions proves each row against the local API.
var rootKeyPermissions = []permissionNeed{
	{ID: "migrate", What: "`unkey_key_migration`: create, and hashes added", Endpoints: []string{"keys.migrateKeys"},
		Needs: []string{"api.*.create_key"}, Note: "roles, permissions and identities the keys name are created on the fly"},
	{ID: "check", What: "`unkey_key_migration`: plan and refresh (is the API there for this root key?)", Endpoints: []string{"apis.getApi"},
		Needs: []string{"api.*.read_api"}, Optional: true, Note: "without it, a wrong `api_id` or root key is found by the apply instead of the plan"},
	{ID: "update", What: "`unkey_key_migration`: a migrated key's `name`, `external_id`, `meta`, `expires`, `enabled`, `credits` or `ratelimits` changed",
		Endpoints: []string{"keys.updateKey"}, Needs: []string{"api.*.update_key"}},
	{ID: "roles", What: "`unkey_key_migration`: a migrated key's `roles` changed", Endpoints: []string{"keys.setRoles"},
		Needs: []string{"api.*.update_key"}, Note: "the roles must exist already"},
	{ID: "permissions", What: "`unkey_key_migration`: a migrated key's `permissions` changed", Endpoints: []string{"keys.setPermissions"},
		Needs: []string{"api.*.update_key", "rbac.*.add_permission_to_key", "rbac.*.remove_permission_from_key"},
		Note:  "also `rbac.*.create_permission` when a permission does not exist yet"},
	{ID: "delete", What: "`unkey_key_migration` with `deletion_policy = \"delete\"`: hashes removed, or destroy", Endpoints: []string{"keys.deleteKey"},
		Needs: []string{"api.*.delete_key"}, Note: "with `abandon` (the default), removing and destroying call nothing"},
	{ID: "api_create", What: "`unkey_api`: create", Endpoints: []string{"apis.createApi"}, Needs: []string{"api.*.create_api"}},
	{ID: "api_read", What: "`unkey_api`: plan, refresh and import", Endpoints: []string{"apis.getApi"}, Needs: []string{"api.*.read_api"}},
	{ID: "api_delete", What: "`unkey_api`: destroy", Endpoints: []string{"apis.getApi", "apis.deleteApi"},
		Needs: []string{"api.*.read_api", "api.*.delete_api"}, Note: "`read_api` for the refresh before it"},
	{ID: "data_api", What: "`data.unkey_api`", Endpoints: []string{"apis.getApi"}, Needs: []string{"api.*.read_api"}},
	{ID: "data_key", What: "`data.unkey_key`", Endpoints: []string{"keys.getKey"}, Needs: []string{"api.*.read_key"}},
}

// migrationOnlyPermissions is the least-privilege root key of a pipeline
// that only migrates keys into one API.
var migrationOnlyPermissions = []string{"api.<apiId>.create_key", "api.<apiId>.read_api"}

// permissionsMarkdown renders the table and the least-privilege set for the
// docs.
func permissionsMarkdown() string {
	var b strings.Builder
	b.WriteString("| What the provider does | Unkey endpoints | Root key permissions (all of them) |\n|---|---|---|\n")
	for _, p := range rootKeyPermissions {
		needs := "`" + strings.Join(p.Needs, "`, `") + "`"
		switch {
		case p.Optional && p.Note != "":
			needs += " (optional: " + p.Note + ")"
		case p.Note != "":
			needs += "; " + p.Note
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s |\n", p.What, strings.Join(p.Endpoints, "`, `"), needs)
	}
	b.WriteString("\nEach `api.*.X` may instead be `api.<apiId>.X`, which grants it for one API only. ")
	fmt.Fprintf(&b, "A pipeline that only migrates keys into one API (with `deletion_policy = \"abandon\"`, changing no key once migrated) needs no more than `%s` "+
		"(the second only so that plans check the API). ", strings.Join(migrationOnlyPermissions, "` and `"))
	b.WriteString("When Unkey refuses an operation for a missing permission (403), the error names the permissions Unkey asked for.\n")
	return b.String()
}
