package provider

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Errors quote where the API URL came from, in the order it is looked for.
func TestAPIURLSource(t *testing.T) {
	for _, tc := range []struct {
		attr, url, base string
		want            string
	}{
		{"https://a.example", "https://b.example", "https://c.example", "from api_url"},
		{"", "https://b.example", "https://c.example", "from UNKEY_API_URL"},
		{"", "", "https://c.example", "from UNKEY_API_BASE_URL"},
		{"", "", "", "the default: none of api_url, UNKEY_API_URL and UNKEY_API_BASE_URL is set"},
	} {
		t.Setenv("UNKEY_API_URL", tc.url)
		t.Setenv("UNKEY_API_BASE_URL", tc.base)
		attr := types.StringNull()
		if tc.attr != "" {
			attr = types.StringValue(tc.attr)
		}
		if got := apiURLSource(attr); got != tc.want {
			t.Errorf("apiURLSource with %+v = %q, want %q", tc, got, tc.want)
		}
	}
}

// Errors quote where the root key came from, in the order it is looked for.
func TestRootKeySource(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(file, []byte("root_key = \"unkey_from_file\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("UNKEY_CONFIG", file)
	for _, tc := range []struct {
		attr, env       string
		wantKey, source string
	}{
		{"unkey_attr", "unkey_env", "unkey_attr", "root_key"},
		{"", "unkey_env", "unkey_env", "UNKEY_ROOT_KEY"},
		{"", "", "unkey_from_file", "root_key in the Unkey CLI config file " + file},
	} {
		t.Setenv("UNKEY_ROOT_KEY", tc.env)
		attr := types.StringNull()
		if tc.attr != "" {
			attr = types.StringValue(tc.attr)
		}
		key, source, diags := resolveRootKey(attr)
		if diags.HasError() || key != tc.wantKey || source != tc.source {
			t.Errorf("resolveRootKey with %+v = %q, %q, %v", tc, key, source, diags)
		}
	}
}
