package provider_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	journal "github.com/unkeyed/terraform-provider-unkey/internal/migration"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// writeKeysFile writes keys in Unkey's migrateKeys format to path and
// returns the file's hex SHA-256, as filesha256() gives it.
func writeKeysFile(t *testing.T, path string, keys []jsonKey) string {
	t.Helper()
	doc, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return writeRawKeysFile(t, path, string(doc))
}

func writeRawKeysFile(t *testing.T, path, doc string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

// fileMigrationConfig renders an unkey_key_migration reading keys_file at
// path, with the hash written literally: a plan then needs nothing of the
// file unless the provider reads it.
func (u localUnkey) fileMigrationConfig(attrs, path, sha string) string {
	return u.providerBlock() + fmt.Sprintf("resource \"unkey_key_migration\" \"test\" {\n  migration_id = %q\n  api_id       = %q\n%s\n  keys_file        = %q\n  keys_file_sha256 = %q\n}\n",
		u.Seed.MigrationID, u.Seed.APIID, attrs, path, sha)
}

// onlyTouches fails when a request other than the API check and the given
// ones reached the server, or touched another key than keyID.
func onlyTouches(u localUnkey, keyID string, allowed ...string) error {
	for _, r := range u.Requests() {
		if r.Path == "/v2/apis.getApi" {
			continue
		}
		if r.Path == "/v2/keys.migrateKeys" && slices.Contains(allowed, r.Path) {
			continue // its hashes are checked apart
		}
		if !slices.Contains(allowed, r.Path) || r.KeyID != keyID {
			return fmt.Errorf("%s touched key %q, want only %v of %s", r.Path, r.KeyID, allowed, keyID)
		}
	}
	return nil
}

func TestAccKeyMigration_keysFileLifecycle(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	dir := t.TempDir()
	keys := generatedJSONKeys("file", 30)
	keys[4] = jsonKey{"hash": keys[4]["hash"], "name": "credited", "credits": map[string]any{"remaining": 50}}
	hashes := hashesOfJSON(keys)
	first := filepath.Join(dir, "keys.json")
	firstSHA := writeKeysFile(t, first, keys)

	extra := jsonKey{"hash": hashOf("file_extra"), "name": "extra"}
	changed := slices.Clone(append(keys, extra))
	changed[4] = jsonKey{"hash": hashes[4], "name": "renamed", "credits": map[string]any{"remaining": 50}}
	second := filepath.Join(dir, "keys-2.json")
	secondSHA := writeKeysFile(t, second, changed)
	all := append(slices.Clone(hashes), extra["hash"].(string))
	removed := hashes[7]
	third := filepath.Join(dir, "keys-3.json")
	thirdSHA := writeKeysFile(t, third, slices.DeleteFunc(slices.Clone(changed), func(k jsonKey) bool { return k["hash"] == removed }))

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: u.fileMigrationConfig("", first, firstSHA),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectSummary("30 to migrate, 0 to update, 0 to remove"),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					keyIDsMatchServer(u, hashes),
					statecheck.ExpectKnownValue(migration, tfjsonpath.New("key_ids"), knownvalue.Null()),
				},
				Check: func(*terraform.State) error {
					sentExactly(t, u, hashes)
					return nil
				},
			},
			{
				// The file is gone; its hash has not changed: the plan must
				// not need it, so it succeeds, empty, without a key request.
				PreConfig: func() {
					u.ResetRequests()
					if err := os.Remove(first); err != nil {
						t.Fatal(err)
					}
				},
				Config:           u.fileMigrationConfig("", first, firstSHA),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:            onlyReads(u),
			},
			{
				// A new file: one key added, one renamed. Only the added hash
				// is sent, and only the renamed key's name is updated: its
				// credits are not sent again (that would reset their count).
				PreConfig: u.ResetRequests,
				Config:    u.fileMigrationConfig("", second, secondSHA),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectSummary("1 to migrate, 1 to update, 0 to remove"),
				}},
				ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, all)},
				Check: func(*terraform.State) error {
					sentExactly(t, u, []string{extra["hash"].(string)})
					k, _ := u.KeyByHash(hashes[4])
					if k.Name != "renamed" || k.Credits == nil {
						return fmt.Errorf("server key not updated as the file says: %+v", k)
					}
					for _, r := range u.RequestsTo("/v2/keys.updateKey") {
						if r.KeyID != k.ID {
							return fmt.Errorf("keys.updateKey touched %s, want only %s", r.KeyID, k.ID)
						}
						if strings.Contains(string(r.Body), "credits") {
							return fmt.Errorf("the update of a name sent credits: %s", r.Body)
						}
					}
					return onlyTouches(u, k.ID, "/v2/keys.migrateKeys", "/v2/keys.updateKey")
				},
			},
			{
				// The same keys through keys_json, then through keys_file again:
				// nothing is sent either way.
				PreConfig:         u.ResetRequests,
				Config:            u.jsonMigrationConfig("", changed),
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(migration, plancheck.ResourceActionUpdate)}},
				ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, all)},
				Check:             onlyReads(u),
			},
			{
				PreConfig:         u.ResetRequests,
				Config:            u.fileMigrationConfig("", second, secondSHA),
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(migration, plancheck.ResourceActionUpdate)}},
				ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, all)},
				Check:             onlyReads(u),
			},
			{
				PreConfig: u.ResetRequests,
				Config:    u.fileMigrationConfig(`  deletion_policy = "delete"`, third, thirdSHA),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectSummary("0 to migrate, 0 to update, 1 to remove"),
				}},
				Check: u.removedKeyDeletedOnce(removed),
			},
		},
	})
}

// Moving from keys (a map) to keys_file with the same keys sends nothing,
// and a later change is found by the digest saved at that switch.
func TestAccKeyMigration_switchKeysToKeysFile(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	a, b := hashOf("fswitch_a"), hashOf("fswitch_b")
	asMap := map[string]string{
		a: `      name = "a"
      meta = jsonencode({ plan = "pro" })
      ratelimits = [{ name = "requests", limit = 10, duration = "1m" }]`,
		b: `      roles = ["admin"]`,
	}
	u.AddRole(u.Seed.WorkspaceID, "admin")
	asJSON := []jsonKey{
		{"hash": a, "name": "a", "meta": map[string]any{"plan": "pro"},
			"ratelimits": []any{map[string]any{"name": "requests", "limit": 10, "duration": 60000, "autoApply": false}}},
		{"hash": b, "roles": []string{"admin"}},
	}
	dir := t.TempDir()
	same := filepath.Join(dir, "same.json")
	sameSHA := writeKeysFile(t, same, asJSON)
	changed := slices.Clone(asJSON)
	changed[1] = jsonKey{"hash": b, "roles": []string{}}
	other := filepath.Join(dir, "changed.json")
	otherSHA := writeKeysFile(t, other, changed)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: u.migrationConfig("", asMap)},
			{
				PreConfig: u.ResetRequests,
				Config:    u.fileMigrationConfig("", same, sameSHA),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(migration, plancheck.ResourceActionUpdate),
					expectSummary("2 to migrate, 0 to update, 0 to remove"), // still the create's
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					keyIDsMatchServer(u, []string{a, b}),
					statecheck.ExpectKnownValue(migration, tfjsonpath.New("key_ids"), knownvalue.Null()),
				},
				Check: onlyReads(u),
			},
			{
				PreConfig: u.ResetRequests,
				Config:    u.fileMigrationConfig("", other, otherSHA),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectSummary("0 to migrate, 1 to update, 0 to remove"),
				}},
				Check: func(*terraform.State) error {
					k, _ := u.KeyByHash(b)
					if len(k.Roles) != 0 {
						return fmt.Errorf("roles not cleared: %v", k.Roles)
					}
					return onlyTouches(u, k.ID, "/v2/keys.setRoles")
				},
			},
		},
	})
}

// An apply that fails part-way is resumed from a keys_file whose hash has
// not changed: only the pending hashes are sent.
func TestAccKeyMigration_keysFileUpdateFailsThenResumes(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	dir := t.TempDir()
	first := generatedJSONKeys("fupd", 10)
	all := append(slices.Clone(first), generatedJSONKeys("fupd_more", 50)...)
	firstPath, allPath := filepath.Join(dir, "first.json"), filepath.Join(dir, "all.json")
	firstSHA, allSHA := writeKeysFile(t, firstPath, first), writeKeysFile(t, allPath, all)
	attrs := `  batch_size = 10`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: sequential(u.fileMigrationConfig(attrs, firstPath, firstSHA))},
			{
				PreConfig: func() {
					u.ResetRequests()
					u.InjectFault(unkeylocal.Fault{Path: "/v2/keys.migrateKeys", Kind: unkeylocal.FaultStatus, Status: 403, Skip: 2, Times: 1})
				},
				Config:      sequential(u.fileMigrationConfig(attrs, allPath, allSHA)),
				ExpectError: errorLike("Key migration update incomplete", "Of 60 hashes: 30 migrated", "30 still pending"),
			},
			{
				PreConfig: func() {
					u.ClearFaults()
					u.ResetRequests()
				},
				Config: sequential(u.fileMigrationConfig(attrs, allPath, allSHA)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectSummary("30 to migrate, 0 to update, 0 to remove"),
				}},
				ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, hashesOfJSON(all))},
				Check: func(*terraform.State) error {
					if got := len(u.migratedHashes()); got != 30 {
						return fmt.Errorf("the resumed apply sent %d hashes, want the 30 pending ones", got)
					}
					return nil
				},
			},
			{
				PreConfig:        u.ResetRequests,
				Config:           sequential(u.fileMigrationConfig(attrs, allPath, allSHA)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:            onlyReads(u),
			},
		},
	})
}

// Every mistake in keys_file fails at plan time, before any request, naming
// the file and the key (index and hash) or the attribute to fix.
func TestAccKeyMigration_invalidKeysFile(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	dir := t.TempDir()
	h := hashOf("valid_file_key")
	bad := filepath.Join(dir, "bad.json")
	badSHA := writeRawKeysFile(t, bad, fmt.Sprintf(`[{"hash": %q, "expires": "2030-01-01"}]`, h))
	good := filepath.Join(dir, "good.json")
	goodSHA := writeRawKeysFile(t, good, fmt.Sprintf(`[{"hash": %q}]`, h))
	cases := []struct{ name, cfg, want string }{
		{"an invalid entry", u.fileMigrationConfig("", bad, badSHA),
			`(?s)Invalid keys_file.*` + regexp.QuoteMeta(bad) + `\[0\] \(hash "` + regexp.QuoteMeta(h) + `"\).*expires must be a whole number`},
		{"a hash that is not the file's", u.fileMigrationConfig("", good, badSHA),
			`(?s)keys_file does not match keys_file_sha256.*The SHA-256 of keys_file.*but keys_file_sha256 is.*filesha256`},
		{"a file that is not there", u.fileMigrationConfig("", filepath.Join(dir, "missing.json"), goodSHA),
			`(?s)Could not read keys_file.*missing\.json`},
		{"a hash that is not hex SHA-256", u.fileMigrationConfig("", good, "abc"),
			`(?s)must be the hex SHA-256 of keys_file`},
		{"keys_file without keys_file_sha256", u.rawJSONMigrationConfig(fmt.Sprintf("  keys_file = %q", good), ""),
			`(?s)"keys_file_sha256" must be specified when "keys_file" is specified`},
		{"both keys_json and keys_file", u.fileMigrationConfig(`  keys_json = "[]"`, good, goodSHA),
			`Exactly one of these attributes must be configured: \[keys,keys_json,keys_file\]`},
	}
	var steps []resource.TestStep
	for _, tc := range cases {
		steps = append(steps, resource.TestStep{
			Config:      tc.cfg,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(strings.ReplaceAll(tc.want, " ", `\s+`)),
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps:                    steps,
		CheckDestroy: func(*terraform.State) error {
			for _, r := range u.Requests() {
				if r.Path != "/v2/apis.getApi" {
					return fmt.Errorf("an invalid keys_file reached the API: %v", paths(u.Requests()))
				}
			}
			return nil
		},
	})
}

// A keys_file changed after the plan was saved is refused at apply, before
// anything is sent: with filesha256() Terraform itself sees the new hash
// and refuses the saved plan; with the hash given otherwise (a literal, a
// variable) the provider refuses the file. Planning again applies the file
// as it is now.
func TestAccKeyMigration_keysFileChangedBetweenPlanAndApply(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	keys := generatedJSONKeys("fplan", 5)
	more := append(slices.Clone(keys), jsonKey{"hash": hashOf("fplan_extra"), "name": "extra"})
	most := append(slices.Clone(more), jsonKey{"hash": hashOf("fplan_extra_2"), "name": "extra 2"})
	doc := func(k []jsonKey) string { raw, _ := json.Marshal(k); return string(raw) }
	config := func(sha string) string {
		return u.providerBlock() + fmt.Sprintf(`resource "unkey_key_migration" "test" {
  migration_id     = %q
  api_id           = %q
  keys_file        = "${path.module}/keys.json"
  keys_file_sha256 = %s
}
`, u.Seed.MigrationID, u.Seed.APIID, sha)
	}
	planThenChange := func(next []jsonKey) string {
		t.Helper()
		if out, err := w.Run("plan", "-out=tfplan"); err != nil {
			t.Fatalf("plan: %v\n%s", err, out)
		}
		w.WriteFile("keys.json", doc(next))
		out, err := w.Run("apply", "tfplan")
		if err == nil {
			t.Fatalf("apply of a plan made from another file succeeded\n%s", out)
		}
		if n := len(u.RequestsTo("/v2/keys.migrateKeys")); n != 0 {
			t.Fatalf("%d migrateKeys requests after the refusal, want none", n)
		}
		return out
	}

	w.WriteFile("keys.json", doc(keys))
	w.WriteConfig(config(`filesha256("${path.module}/keys.json")`))
	if out := planThenChange(more); !errorLike("keys_file_sha256").MatchString(out) {
		t.Fatalf("Terraform's refusal does not name keys_file_sha256:\n%s", out)
	}
	w.WriteConfig(config(fmt.Sprintf("%q", hexSHA256(doc(more)))))
	if out := planThenChange(most); !errorLike("keys_file", "Nothing was sent to Unkey", "the file changed between plan and apply").MatchString(out) {
		t.Fatalf("the provider did not refuse a file changed after the plan:\n%s", out)
	}
	w.WriteConfig(config(`filesha256("${path.module}/keys.json")`))
	if out, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if got := len(u.migratedHashes()); got != len(most) {
		t.Fatalf("migrated %d hashes, want the %d of the file as it is now", got, len(most))
	}
	if out, err := w.Run("plan", "-detailed-exitcode"); err != nil {
		t.Fatalf("plan after apply is not empty: %v\n%s", err, out)
	}
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// An apply that alone wrote its journal seals it for the state it returns,
// so that the next refresh removes it without decoding key_ids_json or
// reading the journal; every key ID stays in state.
func TestAccKeyMigration_keysFileJournalSealed(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	plugins := acctest.BuildProvider(t)
	w := acctest.NewWorkdir(t, plugins)
	dir := t.TempDir()
	w.SetEnv(journal.DirEnv, dir)
	file := journal.For(dir, u.URL, u.Seed.MigrationID, u.Seed.APIID).Path()
	keys := generatedJSONKeys("sealed", 12)
	path := filepath.Join(w.Dir, "keys.json")

	for step, n := range []int{10, 12} { // a create, then an update adding two keys
		w.WriteConfig(u.fileMigrationConfig(`  batch_size = 4`, path, writeKeysFile(t, path, keys[:n])))
		if o, err := w.Run("apply", "-auto-approve"); err != nil {
			t.Fatalf("apply %d: %v\n%s", step, err, o)
		}
		raw, err := os.ReadFile(file) // #nosec G304 -- the test's own journal
		if err != nil {
			t.Fatalf("no journal after apply %d: %v", step, err)
		}
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if !strings.HasPrefix(lines[len(lines)-1], `{"sealed":"`) {
			t.Fatalf("apply %d left its journal unsealed:\n%s", step, raw)
		}
		if o, err := w.Run("plan", "-detailed-exitcode"); err != nil {
			t.Fatalf("plan after apply %d: %v\n%s", step, err, o)
		}
		if _, err := os.Stat(file); !os.IsNotExist(err) {
			t.Fatalf("the sealed journal outlived the refresh of its state: %v", err)
		}
		ids := map[string]string{}
		if err := json.Unmarshal([]byte(w.State("unkey_key_migration.test")["key_ids_json"].(string)), &ids); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys[:n] {
			h := k["hash"].(string)
			if sk, ok := u.KeyByHash(h); !ok || ids[h] != sk.ID {
				t.Errorf("after apply %d, state holds key ID %q for %s, server %q", step, ids[h], h, sk.ID)
			}
		}
	}
}

// The apply's own provider process plans a changed keys_file again from the
// record of the plan's comparison (without parsing the whole file), and
// applies exactly what the plan showed; a file changed after the plan is
// still refused, with the record present.
func TestAccKeyMigration_keysFileUpdateFromCheckedPlan(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	dir := t.TempDir()
	w.SetEnv(journal.DirEnv, dir)
	keys := generatedJSONKeys("checked", 20)
	keys[4] = jsonKey{"hash": keys[4]["hash"], "name": "credited", "credits": map[string]any{"remaining": 50}}
	changed := append(slices.Clone(keys), jsonKey{"hash": hashOf("checked_extra"), "name": "extra"})
	changed[4] = jsonKey{"hash": keys[4]["hash"], "name": "renamed", "credits": map[string]any{"remaining": 50}}
	path := filepath.Join(w.Dir, "keys.json")
	apply := func(args ...string) string {
		t.Helper()
		out, err := w.Run("apply", args...)
		if err != nil {
			t.Fatalf("apply %v: %v\n%s", args, err, out)
		}
		return out
	}

	w.WriteConfig(u.fileMigrationConfig("", path, writeKeysFile(t, path, keys)))
	apply("-auto-approve")
	w.WriteConfig(u.fileMigrationConfig("", path, writeKeysFile(t, path, changed)))
	if out, err := w.Run("plan", "-out=tfplan"); err != nil || !strings.Contains(out, "1 to migrate, 1 to update, 0 to remove") {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	if found, _ := filepath.Glob(filepath.Join(dir, "checked-*.json")); len(found) != 1 {
		t.Fatalf("the plan left %d checked plans, want 1", len(found))
	}
	u.ResetRequests()
	apply("tfplan")
	sentExactly(t, u, []string{hashOf("checked_extra")})
	k, _ := u.KeyByHash(keys[4]["hash"].(string))
	if k.Name != "renamed" || k.Credits == nil {
		t.Fatalf("server key not updated as the file says: %+v", k)
	}
	if err := onlyTouches(u, k.ID, "/v2/keys.migrateKeys", "/v2/keys.updateKey"); err != nil {
		t.Fatal(err)
	}
	if out, err := w.Run("plan", "-detailed-exitcode"); err != nil {
		t.Fatalf("plan after the apply is not empty: %v\n%s", err, out)
	}

	// A saved plan of a further change, then another file under the same
	// hash-named configuration: refused, nothing sent.
	more := append(slices.Clone(changed), jsonKey{"hash": hashOf("checked_more"), "name": "more"})
	w.WriteConfig(u.fileMigrationConfig("", path, writeKeysFile(t, path, more)))
	if out, err := w.Run("plan", "-out=tfplan"); err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	writeKeysFile(t, path, append(slices.Clone(more), jsonKey{"hash": hashOf("checked_most"), "name": "most"}))
	u.ResetRequests()
	out, err := w.Run("apply", "tfplan")
	if err == nil || !errorLike("keys_file", "Nothing was sent to Unkey", "the file changed between plan and apply").MatchString(out) {
		t.Fatalf("the apply of a file changed after the plan was not refused (err %v):\n%s", err, out)
	}
	if n := len(u.RequestsTo("/v2/keys.migrateKeys")); n != 0 {
		t.Fatalf("%d migrateKeys requests after the refusal, want none", n)
	}
}
