package provider

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// permScenario exercises one row of rootKeyPermissions through the real CLI:
// setup is applied with a root key holding everything, then change is run
// (apply, or plan when it only reads) with the root key under test.
type permScenario struct {
	setup, change string
	plan          bool
	// verify checks, after the change succeeded, that it did what it should.
	verify func(t *testing.T, u *unkeylocal.Server, w *acctest.Workdir)
	// alsoChange is a change doing what the row's AlsoWhen says, checked by
	// verifyAlso.
	alsoChange string
	verifyAlso func(t *testing.T, u *unkeylocal.Server, w *acctest.Workdir)
}

// Unkey has, before each scenario, the role "reader", the permission
// "docs.write" and the identity "existing", made outside Terraform.
const (
	seededPermission = "docs.write"
	seededIdentity   = "existing"
	newPermission    = "docs.new"
)

func permHash(s string) string {
	sum := sha256.Sum256([]byte("perm_" + s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// permMigration is an unkey_key_migration of the hashes of names, each
// with the HCL body given.
func permMigration(attrs string, keys map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "resource \"unkey_key_migration\" \"test\" {\n  migration_id = %q\n  api_id       = %q\n%s\n  keys = {\n",
		unkeylocal.DefaultSeed.MigrationID, unkeylocal.DefaultSeed.APIID, attrs)
	names := make([]string, 0, len(keys))
	for n := range keys {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "    %q = {\n      %s\n    }\n", permHash(n), keys[n])
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

// keyIDsMatch fails unless state records, for every name, the key ID the
// server holds for its hash: no key ID was lost.
func keyIDsMatch(names ...string) func(*testing.T, *unkeylocal.Server, *acctest.Workdir) {
	return func(t *testing.T, u *unkeylocal.Server, w *acctest.Workdir) {
		t.Helper()
		st := w.State("unkey_key_migration.test")
		ids, _ := st["key_ids"].(map[string]any)
		if len(ids) != len(names) {
			t.Errorf("state has %d key IDs, want %d", len(ids), len(names))
		}
		for _, n := range names {
			k, ok := u.KeyByHash(permHash(n))
			if !ok || ids[permHash(n)] != k.ID {
				t.Errorf("key %s: state has %v, server %+v", n, ids[permHash(n)], k)
			}
		}
	}
}

func serverKey(t *testing.T, u *unkeylocal.Server, name string) unkeylocal.Key {
	t.Helper()
	k, ok := u.KeyByHash(permHash(name))
	if !ok {
		t.Fatalf("key %s is not in Unkey", name)
	}
	return k
}

var permScenarios = map[string]permScenario{
	"migrate": {
		setup:  permMigration("", map[string]string{"a": `name = "a"`}),
		change: permMigration("", map[string]string{"a": `name = "a"`, "b": `name = "b"`}),
		verify: keyIDsMatch("a", "b"),
	},
	"check": {
		setup:  permMigration("", map[string]string{"a": `name = "a"`}),
		change: permMigration("", map[string]string{"a": `name = "a"`}),
		plan:   true,
	},
	"update": {
		setup:  permMigration("", map[string]string{"a": `name = "before"`}),
		change: permMigration("", map[string]string{"a": `name = "after"`}),
		verify: func(t *testing.T, u *unkeylocal.Server, w *acctest.Workdir) {
			keyIDsMatch("a")(t, u, w)
			if k := serverKey(t, u, "a"); k.Name != "after" {
				t.Errorf("name %q, want after", k.Name)
			}
		},
	},
	"roles": {
		setup:  permMigration("", map[string]string{"a": `roles = []`}),
		change: permMigration("", map[string]string{"a": `roles = ["reader"]`}),
		verify: func(t *testing.T, u *unkeylocal.Server, w *acctest.Workdir) {
			keyIDsMatch("a")(t, u, w)
			if k := serverKey(t, u, "a"); !slices.Equal(k.Roles, []string{"reader"}) {
				t.Errorf("roles %v, want [reader]", k.Roles)
			}
		},
	},
	"permissions": {
		setup:      permMigration("", map[string]string{"a": `permissions = ["docs.read"]`}),
		change:     permMigration("", map[string]string{"a": `permissions = ["` + seededPermission + `"]`}),
		verify:     migratedKeyPermissions(seededPermission),
		alsoChange: permMigration("", map[string]string{"a": `permissions = ["` + newPermission + `"]`}),
		verifyAlso: migratedKeyPermissions(newPermission),
	},
	"delete": {
		setup:  permMigration(`  deletion_policy = "delete"`, map[string]string{"a": `name = "a"`, "b": `name = "b"`}),
		change: permMigration(`  deletion_policy = "delete"`, map[string]string{"a": `name = "a"`}),
		verify: func(t *testing.T, u *unkeylocal.Server, w *acctest.Workdir) {
			keyIDsMatch("a")(t, u, w)
			if _, ok := u.KeyByHash(permHash("b")); ok {
				t.Error("the removed key is still in Unkey")
			}
		},
	},
	"api_create": {
		change: `resource "unkey_api" "test" { name = "permissions" }` + "\n",
		verify: func(t *testing.T, _ *unkeylocal.Server, w *acctest.Workdir) {
			if st := w.State("unkey_api.test"); st == nil || st["id"] == "" {
				t.Errorf("no API in state: %v", st)
			}
		},
	},
	"api_read": {
		setup:  `resource "unkey_api" "test" { name = "permissions" }` + "\n",
		change: `resource "unkey_api" "test" { name = "permissions" }` + "\n",
		plan:   true,
	},
	"api_delete": {
		setup:  `resource "unkey_api" "test" { name = "permissions" }` + "\n",
		change: "",
		verify: func(t *testing.T, _ *unkeylocal.Server, w *acctest.Workdir) {
			if st := w.State("unkey_api.test"); st != nil {
				t.Errorf("the API is still in state: %v", st)
			}
		},
	},
	"data_api": {
		change: fmt.Sprintf("data \"unkey_api\" \"test\" { id = %q }\n", unkeylocal.DefaultSeed.APIID),
		plan:   true,
	},
	"data_key": {
		setup: permMigration("", map[string]string{"a": `name = "a"`}),
		change: permMigration("", map[string]string{"a": `name = "a"`}) +
			fmt.Sprintf("data \"unkey_key\" \"test\" { key_id = unkey_key_migration.test.key_ids[%q] }\n", permHash("a")),
		plan: true,
	},

	"permission_create": {change: permPermissionHCL, verify: inState("unkey_permission.test")},
	"permission_read":   {setup: permPermissionHCL, change: permPermissionHCL, plan: true},
	"permission_delete": {setup: permPermissionHCL, change: "", verify: notInState("unkey_permission.test")},

	"role_create": {
		change:     permRoleHCL(""),
		verify:     inState("unkey_role.test"),
		alsoChange: permRoleHCL(`permissions = ["` + seededPermission + `"]`),
		verifyAlso: inState("unkey_role.test"),
	},
	"role_read": {setup: permRoleHCL(""), change: permRoleHCL(""), plan: true},
	"role_permissions": {
		setup:      permRoleHCL(`permissions = ["docs.read"]`),
		change:     permRoleHCL(`permissions = ["` + seededPermission + `"]`),
		alsoChange: permRoleHCL(`permissions = ["` + newPermission + `"]`),
	},
	"role_delete": {setup: permRoleHCL(""), change: "", verify: notInState("unkey_role.test")},

	"identity_create": {
		change:     permIdentityHCL("acme", ""),
		verify:     inState("unkey_identity.test"),
		alsoChange: permIdentityHCL(seededIdentity, ""),
		verifyAlso: inState("unkey_identity.test"),
	},
	"identity_read": {setup: permIdentityHCL("acme", ""), change: permIdentityHCL("acme", ""), plan: true},
	"identity_update": {
		setup:  permIdentityHCL("acme", `meta = jsonencode({ plan = "free" })`),
		change: permIdentityHCL("acme", `meta = jsonencode({ plan = "pro" })`),
	},
	"identity_delete": {setup: permIdentityHCL("acme", ""), change: "", verify: notInState("unkey_identity.test")},

	"key_create": {
		change: permKeyHCL(`permissions = ["` + newPermission + `"]`),
		verify: createdKeyPermissions(newPermission),
	},
	"key_read":   {setup: permKeyHCL(`name = "a"`), change: permKeyHCL(`name = "a"`), plan: true},
	"key_update": {setup: permKeyHCL(`name = "before"`), change: permKeyHCL(`name = "after"`)},
	"key_roles":  {setup: permKeyHCL(`roles = []`), change: permKeyHCL(`roles = ["reader"]`)},
	"key_permissions": {
		setup:      permKeyHCL(`permissions = ["docs.read"]`),
		change:     permKeyHCL(`permissions = ["` + seededPermission + `"]`),
		verify:     createdKeyPermissions(seededPermission),
		alsoChange: permKeyHCL(`permissions = ["` + newPermission + `"]`),
		verifyAlso: createdKeyPermissions(newPermission),
	},
	"key_delete": {
		setup:  permKeyHCL(`name = "a"`),
		change: "",
		verify: func(t *testing.T, u *unkeylocal.Server, w *acctest.Workdir) {
			notInState("unkey_key.test")(t, u, w)
			for _, k := range u.Keys(unkeylocal.DefaultSeed.APIID) {
				t.Errorf("key %s is still in Unkey", k.ID)
			}
		},
	},

	"data_permission": {change: `data "unkey_permission" "test" { slug = "` + seededPermission + `" }` + "\n", plan: true},
	"data_role":       {change: `data "unkey_role" "test" { name = "reader" }` + "\n", plan: true},
	"data_identity":   {change: `data "unkey_identity" "test" { external_id = "` + seededIdentity + `" }` + "\n", plan: true},
}

const permPermissionHCL = `resource "unkey_permission" "test" {
  name = "docs read"
  slug = "docs.read"
}
`

func permRoleHCL(attrs string) string {
	return fmt.Sprintf("resource \"unkey_role\" \"test\" {\n  name = \"writer\"\n  %s\n}\n", attrs)
}

func permIdentityHCL(externalID, attrs string) string {
	return fmt.Sprintf("resource \"unkey_identity\" \"test\" {\n  external_id = %q\n  %s\n}\n", externalID, attrs)
}

func permKeyHCL(attrs string) string {
	return fmt.Sprintf("resource \"unkey_key\" \"test\" {\n  api_id = %q\n  %s\n}\n", unkeylocal.DefaultSeed.APIID, attrs)
}

func inState(addr string) func(*testing.T, *unkeylocal.Server, *acctest.Workdir) {
	return func(t *testing.T, _ *unkeylocal.Server, w *acctest.Workdir) {
		t.Helper()
		if st := w.State(addr); st == nil || st["id"] == "" {
			t.Errorf("%s is not in state: %v", addr, st)
		}
	}
}

func notInState(addr string) func(*testing.T, *unkeylocal.Server, *acctest.Workdir) {
	return func(t *testing.T, _ *unkeylocal.Server, w *acctest.Workdir) {
		t.Helper()
		if st := w.State(addr); st != nil {
			t.Errorf("%s is still in state: %v", addr, st)
		}
	}
}

// migratedKeyPermissions fails unless key a of the migration kept its key
// ID in state and holds exactly perm in Unkey.
func migratedKeyPermissions(perm string) func(*testing.T, *unkeylocal.Server, *acctest.Workdir) {
	return func(t *testing.T, u *unkeylocal.Server, w *acctest.Workdir) {
		keyIDsMatch("a")(t, u, w)
		if k := serverKey(t, u, "a"); !slices.Equal(k.Permissions, []string{perm}) {
			t.Errorf("permissions %v, want [%s]", k.Permissions, perm)
		}
	}
}

// createdKeyPermissions fails unless unkey_key.test holds exactly perm in
// Unkey.
func createdKeyPermissions(perm string) func(*testing.T, *unkeylocal.Server, *acctest.Workdir) {
	return func(t *testing.T, u *unkeylocal.Server, w *acctest.Workdir) {
		id, _ := w.State("unkey_key.test")["id"].(string)
		k, ok := u.KeyByID(id)
		if !ok || !slices.Equal(k.Permissions, []string{perm}) {
			t.Errorf("key %q (found: %v): permissions %v, want [%s]", id, ok, k.Permissions, perm)
		}
	}
}

// Each row of the permissions table, proven on the real CLI against the
// local API: a root key holding exactly the row's permissions succeeds; one
// missing any of them is refused with an error naming it and pointing to the
// table, and nothing is lost from state (the same change then succeeds with
// a full root key). A row marked optional goes on without them. A row with
// Also is proven the same way for a change doing what AlsoWhen says, with
// Needs and Also.
func TestAccRootKeyPermissions(t *testing.T) {
	t.Parallel()
	acctest.RequireAcc(t)
	plugins := acctest.BuildProvider(t)
	for _, row := range rootKeyPermissions {
		sc, ok := permScenarios[row.ID]
		if !ok {
			t.Errorf("row %s of rootKeyPermissions has no scenario", row.ID)
			continue
		}
		if (sc.alsoChange == "") != (len(row.Also) == 0) {
			t.Errorf("row %s: a scenario has alsoChange if and only if its row has Also", row.ID)
			continue
		}
		proveNeeds(t, plugins, row.ID, sc, nil, row.Needs, row.Optional)
		if len(row.Also) > 0 {
			also := sc
			also.change, also.verify = sc.alsoChange, sc.verifyAlso
			proveNeeds(t, plugins, row.ID+"/also", also, row.Needs, row.Also, false) // what AlsoWhen says
		}
	}
}

// proveNeeds runs sc with a root key holding held and needs, then with
// each of needs left out, which must be refused naming it unless optional.
func proveNeeds(t *testing.T, plugins, name string, sc permScenario, held, needs []string, optional bool) {
	all := append(slices.Clone(held), needs...)
	t.Run(name+"/exactly the listed permissions", func(t *testing.T) {
		runPermScenario(t, plugins, sc, all, "")
	})
	for _, missing := range needs {
		t.Run(name+"/without "+missing, func(t *testing.T) {
			refusal := missing
			if optional {
				refusal = ""
			}
			runPermScenario(t, plugins, sc, slices.DeleteFunc(slices.Clone(all), func(p string) bool { return p == missing }), refusal)
		})
	}
}

// runPermScenario runs sc with a root key holding perms. With refusal set,
// the change must fail naming that permission, then succeed with a full key.
// After an applied change, a plan with a full root key must show nothing to
// do: Unkey holds what the configuration says.
func runPermScenario(t *testing.T, plugins string, sc permScenario, perms []string, refusal string) {
	u, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
	seed := u.SeedDefault()
	u.AddRole(seed.WorkspaceID, "reader")
	seedOutsideTerraform(t, url, seed.RootKey)
	const limited = "unkey_permissions_under_test_0123"
	u.AddRootKey(seed.WorkspaceID, limited, perms...)
	w := acctest.NewWorkdir(t, plugins)
	provider := fmt.Sprintf("provider \"unkey\" {\n  api_url = %q\n}\n", url)
	run := func(rootKey, cfg string, plan bool) (string, error) {
		w.SetEnv("UNKEY_ROOT_KEY", rootKey)
		w.WriteConfig(provider + cfg)
		if plan {
			return w.Run("plan", "-detailed-exitcode")
		}
		return w.Run("apply", "-auto-approve")
	}
	if sc.setup != "" {
		if out, err := run(seed.RootKey, sc.setup, false); err != nil {
			t.Fatalf("setup: %v\n%s", err, out)
		}
	}
	out, err := run(limited, sc.change, sc.plan)
	if refusal == "" {
		if err != nil {
			t.Fatalf("with %v: %v\n%s", perms, err, out)
		}
	} else {
		// keys.createKey masks a missing permission as 404 api_not_found.
		want := regexp.MustCompile(`Unkey answered 40[34].*` + regexp.QuoteMeta(refusal) + `.*Root key permissions`)
		if err == nil || !want.MatchString(strings.Join(strings.Fields(out), " ")) {
			t.Fatalf("with %v: want a refusal naming %s and pointing to the table, got %v\n%s", perms, refusal, err, out)
		}
		if out, err := run(seed.RootKey, sc.change, sc.plan); err != nil {
			t.Fatalf("the same change with a full root key: %v\n%s", err, out)
		}
	}
	if !sc.plan {
		if out, err := run(seed.RootKey, sc.change, true); err != nil {
			t.Fatalf("a plan after the change: %v (exit code 2 means Unkey differs from the configuration)\n%s", err, out)
		}
	}
	if sc.verify != nil {
		sc.verify(t, u, w)
	}
}

// seedOutsideTerraform makes the permission and the identity the scenarios
// expect to exist already.
func seedOutsideTerraform(t *testing.T, url, rootKey string) {
	t.Helper()
	for path, body := range map[string]string{
		"/v2/permissions.createPermission": `{"name": "docs write", "slug": "` + seededPermission + `"}`,
		"/v2/identities.createIdentity":    `{"externalId": "` + seededIdentity + `"}`,
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+rootKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", path, resp.Status)
		}
	}
}
