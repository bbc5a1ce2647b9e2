package provider

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// notCheckedLocally are permissions Unkey's server checks but the local API
// does not yet (keys.setPermissions checks only update_key there): a root key
// missing one of them cannot be refused locally.
var notCheckedLocally = map[string]bool{
	"rbac.*.add_permission_to_key":      true,
	"rbac.*.remove_permission_from_key": true,
}

// permScenario exercises one row of rootKeyPermissions through the real CLI:
// setup is applied with a root key holding everything, then change is run
// (apply, or plan when it only reads) with the root key under test.
type permScenario struct {
	setup, change string
	plan          bool
	// verify checks, after the change succeeded, that it did what it should.
	verify func(t *testing.T, u *unkeylocal.Server, w *acctest.Workdir)
}

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
		setup:  permMigration("", map[string]string{"a": `permissions = ["docs.read"]`}),
		change: permMigration("", map[string]string{"a": `permissions = ["docs.write"]`}),
		verify: func(t *testing.T, u *unkeylocal.Server, w *acctest.Workdir) {
			keyIDsMatch("a")(t, u, w)
			if k := serverKey(t, u, "a"); !slices.Equal(k.Permissions, []string{"docs.write"}) {
				t.Errorf("permissions %v, want [docs.write]", k.Permissions)
			}
		},
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
}

// Each row of the permissions table, proven on the real CLI against the
// local API: a root key holding exactly the row's permissions succeeds; one
// missing any of them is refused with an error naming it and pointing to the
// table, and nothing is lost from state (the same change then succeeds with
// a full root key). A row marked optional goes on without them.
func TestAccRootKeyPermissions(t *testing.T) {
	acctest.RequireAcc(t)
	plugins := acctest.BuildProvider(t)
	for _, row := range rootKeyPermissions {
		sc, ok := permScenarios[row.ID]
		if !ok {
			t.Errorf("row %s of rootKeyPermissions has no scenario", row.ID)
			continue
		}
		t.Run(row.ID+"/exactly the listed permissions", func(t *testing.T) {
			runPermScenario(t, plugins, sc, row.Needs, "")
		})
		for _, missing := range row.Needs {
			if notCheckedLocally[missing] {
				continue
			}
			t.Run(row.ID+"/without "+missing, func(t *testing.T) {
				refusal := missing
				if row.Optional {
					refusal = ""
				}
				runPermScenario(t, plugins, sc, slices.DeleteFunc(slices.Clone(row.Needs), func(p string) bool { return p == missing }), refusal)
			})
		}
	}
}

// runPermScenario runs sc with a root key holding perms. With refusal set,
// the change must fail naming that permission, then succeed with a full key.
func runPermScenario(t *testing.T, plugins string, sc permScenario, perms []string, refusal string) {
	u, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
	seed := u.SeedDefault()
	u.AddRole(seed.WorkspaceID, "reader")
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
		want := regexp.MustCompile(`Unkey answered 403.*` + regexp.QuoteMeta(refusal) + `.*Root key permissions`)
		if err == nil || !want.MatchString(strings.Join(strings.Fields(out), " ")) {
			t.Fatalf("with %v: want a refusal naming %s and pointing to the table, got %v\n%s", perms, refusal, err, out)
		}
		if out, err := run(seed.RootKey, sc.change, sc.plan); err != nil {
			t.Fatalf("the same change with a full root key: %v\n%s", err, out)
		}
	}
	if sc.verify != nil {
		sc.verify(t, u, w)
	}
}
