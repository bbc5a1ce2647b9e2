package provider_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// Every invalid configuration fails at plan time, before any request, with an
// error that names the attribute (and the hash, for a key).
func TestAccKeyMigration_invalidConfigurations(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	h := hashOf("valid_key")
	_, urlSafe := urlUnsafeHash()
	hexHash := fmt.Sprintf("%x", []byte("0123456789abcdef0123456789abcdef"))
	key := func(body string) map[string]string { return map[string]string{h: body} }
	many := func(n int, f func(i int) string) string {
		items := make([]string, n)
		for i := range items {
			items[i] = f(i)
		}
		return strings.Join(items, ", ")
	}

	cases := []struct {
		name  string
		attrs string
		keys  map[string]string
		want  string
	}{
		{"no keys", "", map[string]string{}, `keys.*must contain at least 1`},
		{"short migration_id", "", key(""), `migration_id.*length must be between 3 and 255`},
		{"unknown hash_format", `  hash_format = "base64"`, key(""), `hash_format.*value must be one of`},
		{"hex hash under sha256_base64", `  hash_format = "sha256_base64"`, map[string]string{hexHash: ""}, `(?s)is 64 hex characters.*sha256_hex_to_base64`},
		{"url-safe base64", `  hash_format = "sha256_base64"`, map[string]string{urlSafe: ""}, `not standard base64`},
		{"base64 of 16 bytes", `  hash_format = "sha256_base64"`, map[string]string{"MDEyMzQ1Njc4OWFiY2RlZg==": ""}, `decodes to 16 bytes`},
		{"not hex under sha256_hex", `  hash_format = "sha256_hex"`, key(""), `is not 64 hex characters`},
		{"hash too short", "", map[string]string{"ab": ""}, `at least 3`},
		{"base64 hash with a line break", `  hash_format = "sha256_base64"`, map[string]string{h[:20] + "\n" + h[20:]: ""}, `not standard base64`},
		{"long api_id", "", key(""), `api_id.*length must be between 3 and 255`},
		{"empty external_id", "", key(`external_id = ""`), `external_id.*between 1 and 255`},
		{"role of 129 characters", "", key(fmt.Sprintf("roles = [%q]", strings.Repeat("r", 129))), `roles.*between 1 and 128`},
		{"permission of 129 characters", "", key(fmt.Sprintf("permissions = [%q]", strings.Repeat("p", 129))), `permissions.*between 1 and 128`},
		{"meta null", "", key(`meta = "null"`), `meta must be a JSON object`},
		{"expires before 1970", "", key(`expires = "1969-12-31T23:59:59Z"`), `expires out of range`},
		{"batch_size 0", `  batch_size = 0`, key(""), `batch_size.*between 1 and 1000`},
		{"batch_size 1001", `  batch_size = 1001`, key(""), `batch_size.*between 1 and 1000`},
		{"unknown deletion_policy", `  deletion_policy = "purge"`, key(""), `deletion_policy.*value must be one of`},
		{"empty name", "", key(`name = ""`), `\.name.*between 1 and 255`},
		{"long external_id", "", key(fmt.Sprintf("external_id = %q", strings.Repeat("x", 256))), `external_id.*between 1 and 255`},
		{"meta array", "", key(`meta = jsonencode([1, 2])`), `(?s)meta must be a JSON object.*jsonencode`},
		{"meta not JSON", "", key(`meta = "{nope"`), `(?i)invalid JSON`},
		{"meta too big", "", key("meta = jsonencode({" + many(101, func(i int) string { return fmt.Sprintf("k%d = %d", i, i) }) + "})"), `at most 100`},
		{"too many roles", "", key("roles = [" + many(101, func(i int) string { return fmt.Sprintf("%q", fmt.Sprint("r", i)) }) + "]"), `roles.*at most 100`},
		{"empty role", "", key(`roles = [""]`), `roles.*between 1 and 128`},
		{"permission with a space", "", key(`permissions = ["documents read"]`), `(?s)permissions.*only letters, digits`},
		{"too many permissions", "", key("permissions = [" + many(1001, func(i int) string { return fmt.Sprintf("%q", fmt.Sprint("p", i)) }) + "]"), `permissions.*at most 1000`},
		{"expires 2100", "", key(`expires = "2100-01-01T00:00:00Z"`), `(?s)expires out of range.*2100-01-01`},
		{"expires not RFC 3339", "", key(`expires = "tomorrow"`), `expires.*not an RFC 3339 timestamp`},
		{"negative credits", "", key(`credits = { remaining = -1 }`), `remaining.*at least 0`},
		{"monthly without refill_day", "", key(`credits = { remaining = 1, refill = { interval = "monthly", amount = 1 } }`), `Missing refill_day.*refill.refill_day: a monthly refill needs refill_day`},
		{"daily with refill_day", "", key(`credits = { remaining = 1, refill = { interval = "daily", amount = 1, refill_day = 3 } }`), `refill_day not allowed for a daily refill`},
		{"refill amount 0", "", key(`credits = { remaining = 1, refill = { interval = "daily", amount = 0 } }`), `amount.*at least 1`},
		{"weekly refill", "", key(`credits = { remaining = 1, refill = { interval = "weekly", amount = 1 } }`), `interval.*value must be one of`},
		{"500ms rate limit", "", key(`ratelimits = [{ name = "requests", limit = 1, duration = "500ms" }]`), `(?s)duration.*shortest rate limit window is 1s`},
		{"sub-millisecond rate limit", "", key(`ratelimits = [{ name = "requests", limit = 1, duration = "1s500us" }]`), `whole milliseconds`},
		{"rate limit duration not a duration", "", key(`ratelimits = [{ name = "requests", limit = 1, duration = "5 minutes" }]`), `ratelimits\[0\].duration: got "5 minutes"; write a Go duration`},
		{"short rate limit name", "", key(`ratelimits = [{ name = "ab", limit = 1, duration = "1s" }]`), `name.*between 3 and 128`},
		{"rate limit of 0", "", key(`ratelimits = [{ name = "requests", limit = 0, duration = "1s" }]`), `limit.*at least 1`},
		{"duplicate rate limit names", "", key(`ratelimits = [{ name = "requests", limit = 1, duration = "1s" }, { name = "requests", limit = 2, duration = "1m" }]`), `Duplicate rate limit name`},
		{"51 rate limits", "", key("ratelimits = [" + many(51, func(i int) string { return fmt.Sprintf(`{ name = "rl%03d", limit = 1, duration = "1s" }`, i) }) + "]"), `ratelimits.*at most 50`},
	}

	var steps []resource.TestStep
	for _, c := range cases {
		cfg := u.migrationConfig(c.attrs, c.keys)
		switch c.name {
		case "short migration_id":
			cfg = strings.Replace(cfg, fmt.Sprintf("migration_id = %q", u.Seed.MigrationID), `migration_id = "ab"`, 1)
		case "long api_id":
			cfg = strings.Replace(cfg, fmt.Sprintf("api_id       = %q", u.Seed.APIID), fmt.Sprintf("api_id = %q", strings.Repeat("a", 256)), 1)
		}
		steps = append(steps, resource.TestStep{
			Config:   cfg,
			PlanOnly: true,
			// Terraform wraps long messages: any space may be a line break.
			ExpectError: regexp.MustCompile(`(?s)` + strings.ReplaceAll(c.want, " ", `\s+`)),
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps:                    steps,
		CheckDestroy: func(*terraform.State) error {
			if reqs := u.Requests(); len(reqs) != 0 {
				return fmt.Errorf("invalid configurations reached the API: %v", paths(reqs))
			}
			return nil
		},
	})
}

func TestAccProvider_configurationErrors(t *testing.T) {
	u := startLocalUnkey(t)
	t.Setenv("UNKEY_ROOT_KEY", "")
	t.Setenv("UNKEY_API_URL", "")
	t.Setenv("UNKEY_API_BASE_URL", "")
	t.Setenv("UNKEY_CONFIG", t.TempDir()+"/missing.toml")
	resourceBlock := strings.TrimPrefix(u.migrationConfig("", map[string]string{hashOf("k"): ""}), u.providerBlock())
	provider := func(body string) string { return "provider \"unkey\" {\n" + body + "\n}\n" + resourceBlock }

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      provider(fmt.Sprintf("api_url = %q", u.URL)),
				ExpectError: errorLike("No Unkey root key", "root_key attribute", "UNKEY_ROOT_KEY", "missing.toml", "UNKEY_CONFIG"),
			},
			{
				Config:      provider(`root_key = "x"` + "\n" + `api_url = "ftp://x"`),
				ExpectError: errorLike("Invalid Unkey API URL", "is not an absolute http(s) URL"),
			},
			{
				Config:      provider(`root_key = "x"` + "\n" + `api_url = "http://unkey.example.com"`),
				ExpectError: errorLike("Invalid Unkey API URL", "plain http to a host that is not loopback"),
			},
			{
				Config:      provider(fmt.Sprintf("api_url = %q\nroot_key = \"x\"\nrequest_timeout = \"500ms\"", u.URL)),
				ExpectError: errorLike("Invalid duration", "request_timeout", "at least 1s"),
			},
			{
				Config:      provider(fmt.Sprintf("api_url = %q\nroot_key = \"x\"\nretry_timeout = \"five minutes\"", u.URL)),
				ExpectError: errorLike("Invalid duration", "retry_timeout", "Go duration"),
			},
		},
	})
}

// Unkey's refusals reach the user with Unkey's detail and request ID, and
// never with the root key.
func TestAccKeyMigration_apiErrors(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	keys := map[string]string{hashOf("err_key"): ""}
	const limitedKey = "unkey_limited_root_key_0123456789"
	u.AddRootKey(u.Seed.WorkspaceID, limitedKey, "api.*.read_api")
	const wrongKey = "unkey_wrong_root_key_0123456789"
	cfg := u.migrationConfig("", keys)
	withRootKey := func(k string) string {
		return strings.Replace(cfg, fmt.Sprintf("root_key = %q", u.Seed.RootKey), fmt.Sprintf("root_key = %q", k), 1)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      withRootKey(wrongKey),
				ExpectError: errorLike("Unkey answered 401", "request ID req_", "Check the provider's root key"),
			},
			{
				Config:      withRootKey(limitedKey),
				ExpectError: errorLike("Unkey answered 403", "create_key", "request ID req_"),
			},
			{
				Config:      strings.Replace(cfg, fmt.Sprintf("api_id       = %q", u.Seed.APIID), `api_id       = "api_missing"`, 1),
				ExpectError: errorLike("Unkey answered 404", "api_not_found", "Check api_id"),
			},
			{
				Config:      strings.Replace(cfg, fmt.Sprintf("migration_id = %q", u.Seed.MigrationID), `migration_id = "mig_missing"`, 1),
				ExpectError: errorLike("Unkey answered 404", "migration_not_found", "Check migration_id"),
			},
		},
	})
}

// The root key can come from the Unkey CLI's config file, as for the CLI.
func TestAccProvider_rootKeyFromCLIConfigFile(t *testing.T) {
	u := startLocalUnkey(t)
	cfgFile := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfgFile, []byte(fmt.Sprintf("root_key = %q\n", u.Seed.RootKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("UNKEY_ROOT_KEY", "")
	t.Setenv("UNKEY_CONFIG", cfgFile)
	t.Setenv("UNKEY_API_URL", u.URL)
	h := hashOf("from_cli_config")
	cfg := "provider \"unkey\" {}\n" + strings.TrimPrefix(u.migrationConfig("", map[string]string{h: ""}), u.providerBlock())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(*terraform.State) error {
				if _, ok := u.KeyByHash(h); !ok {
					return fmt.Errorf("nothing migrated with the root key from %s", cfgFile)
				}
				return nil
			},
		}},
	})
}
