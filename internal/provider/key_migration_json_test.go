package provider_test

import (
	"encoding/json"
	"fmt"
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
)

// jsonKey is one key of keys_json, in Unkey's migrateKeys format.
type jsonKey map[string]any

// jsonMigrationConfig renders an unkey_key_migration whose keys_json holds
// keys, as a heredoc the way file("keys.json") would give it.
func (u localUnkey) jsonMigrationConfig(attrs string, keys []jsonKey) string {
	doc, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		panic(err)
	}
	return u.rawJSONMigrationConfig(attrs, string(doc))
}

func (u localUnkey) rawJSONMigrationConfig(attrs, doc string) string {
	if doc == "" {
		return u.providerBlock() + fmt.Sprintf("resource \"unkey_key_migration\" \"test\" {\n  migration_id = %q\n  api_id       = %q\n%s\n}\n", u.Seed.MigrationID, u.Seed.APIID, attrs)
	}
	return u.providerBlock() + fmt.Sprintf("resource \"unkey_key_migration\" \"test\" {\n  migration_id = %q\n  api_id       = %q\n%s\n  keys_json = <<-EOT\n%s\nEOT\n}\n",
		u.Seed.MigrationID, u.Seed.APIID, attrs, doc)
}

func generatedJSONKeys(prefix string, n int) []jsonKey {
	out := make([]jsonKey, n)
	for i := range out {
		out[i] = jsonKey{"hash": hashOf(fmt.Sprintf("%s_legacy_key_%05d", prefix, i)), "name": fmt.Sprintf("customer %d", i)}
	}
	return out
}

func hashesOfJSON(keys []jsonKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i], _ = k["hash"].(string)
	}
	return out
}

// knownValueJSONObjectSize checks a string holding a JSON object of n members.
type knownValueJSONObjectSize int

func (n knownValueJSONObjectSize) CheckValue(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("got %T, want a JSON string", v)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return err
	}
	if len(m) != int(n) {
		return fmt.Errorf("JSON object of %d members, want %d", len(m), int(n))
	}
	return nil
}

func (n knownValueJSONObjectSize) String() string {
	return fmt.Sprintf("JSON object of %d members", int(n))
}

func expectSummary(s string) plancheck.PlanCheck {
	return plancheck.ExpectKnownValue(migration, tfjsonpath.New("change_summary"), knownvalue.StringExact(s))
}

// onlyReads fails when any request but the API check reached the server.
func onlyReads(u localUnkey) func(*terraform.State) error {
	return func(*terraform.State) error {
		for _, r := range u.Requests() {
			if r.Path != "/v2/apis.getApi" {
				return fmt.Errorf("expected no key requests, got %s", r.Path)
			}
		}
		return nil
	}
}

func TestAccKeyMigration_keysJSONLifecycle(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	u.AddRole(u.Seed.WorkspaceID, "admin")
	keys := generatedJSONKeys("bulk", 150)
	keys[5] = jsonKey{
		"hash": keys[5]["hash"], "name": "full", "externalId": "user_5", "meta": map[string]any{"plan": "pro", "seats": 12},
		"roles": []string{"admin"}, "permissions": []string{"documents.read"}, "expires": 1893456000000, "enabled": false,
		"credits":    map[string]any{"remaining": 100, "refill": map[string]any{"interval": "monthly", "amount": 100, "refillDay": 1}},
		"ratelimits": []any{map[string]any{"name": "requests", "limit": 10, "duration": 60000, "autoApply": true}},
	}
	hashes := hashesOfJSON(keys)
	extra := jsonKey{"hash": hashOf("bulk_extra"), "name": "extra"}
	withExtra := append(slices.Clone(keys), extra)
	renamed := slices.Clone(withExtra)
	changed := hashes[9]
	renamed[9] = jsonKey{"hash": changed, "name": "renamed", "roles": []string{"admin"}}
	reordered := slices.Clone(renamed)
	slices.Reverse(reordered)
	removed := hashes[3]
	withoutOne := slices.DeleteFunc(slices.Clone(renamed), func(k jsonKey) bool { return k["hash"] == removed })

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: u.jsonMigrationConfig("", keys),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectSummary("150 to migrate, 0 to update, 0 to remove"),
				}},
				ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, hashes)},
				Check: func(*terraform.State) error {
					sentExactly(t, u, hashes)
					k, _ := u.KeyByHash(hashes[5])
					if k.Name != "full" || k.Enabled || k.Meta["plan"] != "pro" || fmt.Sprint(k.Meta["seats"]) != "12" ||
						!slices.Equal(k.Roles, []string{"admin"}) || !slices.Equal(k.Permissions, []string{"documents.read"}) ||
						k.Expires == nil || *k.Expires != 1893456000000 || len(k.Ratelimits) != 1 || k.Credits == nil {
						return fmt.Errorf("settings from keys_json did not reach Unkey intact: %+v", k)
					}
					return nil
				},
			},
			{
				PreConfig:        u.ResetRequests,
				Config:           u.jsonMigrationConfig("", keys),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:            onlyReads(u),
			},
			{
				PreConfig: u.ResetRequests,
				Config:    u.jsonMigrationConfig("", withExtra),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectSummary("1 to migrate, 0 to update, 0 to remove"),
				}},
				ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, append(slices.Clone(hashes), extra["hash"].(string)))},
				Check: func(*terraform.State) error {
					sentExactly(t, u, []string{extra["hash"].(string)})
					return nil
				},
			},
			{
				// One key's settings: that key alone is touched.
				PreConfig: u.ResetRequests,
				Config:    u.jsonMigrationConfig("", renamed),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectSummary("0 to migrate, 1 to update, 0 to remove"),
					plancheck.ExpectKnownValue(migration, tfjsonpath.New("key_ids_json"), knownValueJSONObjectSize(151)),
					plancheck.ExpectKnownValue(migration, tfjsonpath.New("key_ids"), knownvalue.Null()),
				}},
				Check: func(*terraform.State) error {
					k, _ := u.KeyByHash(changed)
					for _, r := range u.Requests() {
						if r.Path != "/v2/apis.getApi" && r.KeyID != k.ID {
							return fmt.Errorf("%s touched key %s, want only %s", r.Path, r.KeyID, k.ID)
						}
					}
					if k.Name != "renamed" || !slices.Equal(k.Roles, []string{"admin"}) {
						return fmt.Errorf("server key not updated: %+v", k)
					}
					return nil
				},
			},
			{
				// The same keys in another order and layout: the string
				// changes, the keys do not, so nothing is sent.
				PreConfig: u.ResetRequests,
				Config:    u.jsonMigrationConfig("", reordered),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectSummary("0 to migrate, 1 to update, 0 to remove"), // unchanged from the last apply that changed keys
				}},
				Check: onlyReads(u),
			},
			{
				PreConfig: u.ResetRequests,
				Config:    u.jsonMigrationConfig(`  deletion_policy = "delete"`, withoutOne),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectSummary("0 to migrate, 0 to update, 1 to remove"),
					plancheck.ExpectKnownValue(migration, tfjsonpath.New("key_ids_json"), knownValueJSONObjectSize(150)),
				}},
				Check: u.removedKeyDeletedOnce(removed),
			},
		},
	})
}

// Moving from keys to keys_json with the same keys changes nothing in Unkey.
func TestAccKeyMigration_switchKeysToKeysJSON(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	a, b := hashOf("switch_a"), hashOf("switch_b")
	asMap := map[string]string{
		a: `      name = "a"
      meta = jsonencode({ plan = "pro" })
      expires = "2030-01-01T00:00:00Z"
      ratelimits = [{ name = "requests", limit = 10, duration = "1m" }]`,
		b: `      credits = { remaining = 5, refill = { interval = "daily", amount = 5 } }`,
	}
	asJSON := []jsonKey{
		{"hash": a, "name": "a", "meta": map[string]any{"plan": "pro"}, "expires": 1893456000000,
			"ratelimits": []any{map[string]any{"name": "requests", "limit": 10, "duration": 60000, "autoApply": false}}},
		{"hash": b, "credits": map[string]any{"remaining": 5, "refill": map[string]any{"interval": "daily", "amount": 5}}},
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: u.migrationConfig("", asMap)},
			{
				PreConfig: u.ResetRequests,
				Config:    u.jsonMigrationConfig("", asJSON),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(migration, plancheck.ResourceActionUpdate),
					expectSummary("2 to migrate, 0 to update, 0 to remove"), // still the create's
				}},
				ConfigStateChecks: []statecheck.StateCheck{keyIDsMatchServer(u, []string{a, b})},
				Check:             onlyReads(u),
			},
		},
	})
}

// Every mistake in keys_json fails at plan time, before any request, naming
// the key (index and hash) and the field.
func TestAccKeyMigration_invalidKeysJSON(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	h := hashOf("valid_key")
	one := func(fields string) string { return fmt.Sprintf(`[{"hash": %q%s}]`, h, fields) }
	at := fmt.Sprintf(`keys_json\[0\] \(hash "%s"\)`, strings.NewReplacer("+", `\+`, "/", `\/`).Replace(h))
	cases := []struct{ name, attrs, doc, want string }{
		{"not JSON", "", `[{"hash": }`, `(?s)must be a JSON array.*not valid JSON`},
		{"an object, not an array", "", fmt.Sprintf(`{%q: {"name": "x"}}`, h), `must be a JSON array`},
		{"empty array", "", `[]`, `empty array`},
		{"missing hash", "", `[{"name": "x"}]`, `keys_json\[0\]: hash is missing`},
		{"duplicate hash", "", fmt.Sprintf(`[{"hash": %q}, {"hash": %q}]`, h, h), `(?s)keys_json\[1\].*also keys_json\[0\]`},
		{"snake_case field", "", one(`, "external_id": "u1"`), `(?s)"external_id" is not a field.*externalId`},
		{"expires as a string", "", one(`, "expires": "2030-01-01"`), `(?s)` + at + `.*expires must be a whole number`},
		{"expires past 2100", "", one(`, "expires": 4102444800000`), at + `: expires must be Unix milliseconds`},
		{"meta an array", "", one(`, "meta": [1]`), at + `: meta must be a JSON object`},
		{"too many roles", "", one(`, "roles": [` + strings.TrimSuffix(strings.Repeat(`"r",`, 101), ",") + `]`), `roles has 101 entries`},
		{"permission with a space", "", one(`, "permissions": ["read docs"]`), `permissions\[0\] "read docs" may contain only`},
		{"monthly refill without refillDay", "", one(`, "credits": {"remaining": 1, "refill": {"interval": "monthly", "amount": 1}}`), `refillDay is required for a monthly refill`},
		{"daily refill with refillDay", "", one(`, "credits": {"remaining": 1, "refill": {"interval": "daily", "amount": 1, "refillDay": 3}}`), `refillDay is only for monthly`},
		{"ratelimit of 500ms", "", one(`, "ratelimits": [{"name": "req", "limit": 1, "duration": 500}]`), `ratelimits\[0\]\.duration must be the window in milliseconds`},
		{"hex hash under sha256_base64", `  hash_format = "sha256_base64"`, fmt.Sprintf(`[{"hash": %q}]`, strings.Repeat("ab", 32)), `(?s)is 64 hex characters.*sha256_hex_to_base64`},
		{"both keys and keys_json", "  keys = {}", one(""), `Exactly one of these attributes must be configured: \[keys,keys_json,keys_file\]`},
		{"neither keys nor keys_json", "", "", `Exactly one of these attributes must be configured: \[keys,keys_json,keys_file\]`},
	}
	var steps []resource.TestStep
	for _, tc := range cases {
		steps = append(steps, resource.TestStep{
			Config:   u.rawJSONMigrationConfig(tc.attrs, tc.doc),
			PlanOnly: true,
			// Terraform wraps long messages: any space may be a line break.
			ExpectError: regexp.MustCompile(`(?s)` + strings.ReplaceAll(tc.want, " ", `\s+`)),
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps:                    steps,
		CheckDestroy: func(*terraform.State) error {
			if reqs := u.Requests(); len(reqs) != 0 {
				return fmt.Errorf("invalid keys_json reached the API: %v", paths(reqs))
			}
			return nil
		},
	})
}
