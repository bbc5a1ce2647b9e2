package provider_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/provider"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

func TestMain(m *testing.M) {
	// Journals of the in-process provider would land in this package's
	// directory; keep them (and the built provider's) in a temporary one.
	journals, err := os.MkdirTemp("", "unkey-journal-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = os.Setenv("UNKEY_PROVIDER_JOURNAL_DIR", journals)
	if os.Getenv("TF_ACC") != "" {
		if _, err := acctest.EnsureTerraformCLI(); err != nil {
			fmt.Fprintln(os.Stderr, "acceptance tests need the Terraform CLI:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	_ = os.RemoveAll(journals)
	os.Exit(code)
}

var testProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"unkey": func() (tfprotov6.ProviderServer, error) { return provider.NewServer("test")(), nil },
}

// localUnkey is a running local Unkey-compatible API with a seeded workspace.
type localUnkey struct {
	*unkeylocal.Server
	URL  string
	Seed unkeylocal.Seed
}

func startLocalUnkey(t *testing.T) localUnkey {
	t.Helper()
	srv, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
	return localUnkey{Server: srv, URL: url, Seed: srv.SeedDefault()}
}

// startLocalUnkeyWithStaging is startLocalUnkey plus a second workspace,
// ws_staging, whose root key otherWorkspaceRootKey sees everything of its own
// workspace and, as with Unkey, nothing of the seeded one. It skips the test
// without TF_ACC.
func startLocalUnkeyWithStaging(t *testing.T) localUnkey {
	t.Helper()
	acctest.RequireAcc(t)
	u := startLocalUnkey(t)
	u.AddWorkspace("ws_staging")
	u.AddRootKey("ws_staging", otherWorkspaceRootKey, "*")
	return u
}

// removedKeyDeletedOnce checks that the key of a hash removed under
// deletion_policy = "delete" is gone from Unkey, with one keys.deleteKey.
func (u localUnkey) removedKeyDeletedOnce(removed string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if _, ok := u.KeyByHash(removed); ok {
			return fmt.Errorf("the key of removed hash %s is still in Unkey", removed)
		}
		if n := len(u.RequestsTo("/v2/keys.deleteKey")); n != 1 {
			return fmt.Errorf("%d deleteKey requests, want 1", n)
		}
		return nil
	}
}

func (u localUnkey) providerBlock() string {
	return fmt.Sprintf("provider \"unkey\" {\n  api_url  = %q\n  root_key = %q\n}\n", u.URL, u.Seed.RootKey)
}

// migrationConfig renders a provider block and an unkey_key_migration whose
// keys map each hash to the HCL body given for it.
func (u localUnkey) migrationConfig(attrs string, keys map[string]string) string {
	var b strings.Builder
	b.WriteString(u.providerBlock())
	fmt.Fprintf(&b, "resource \"unkey_key_migration\" \"test\" {\n  migration_id = %q\n  api_id       = %q\n%s\n  keys = {\n",
		u.Seed.MigrationID, u.Seed.APIID, attrs)
	hashes := make([]string, 0, len(keys))
	for h := range keys {
		hashes = append(hashes, h)
	}
	sort.Strings(hashes)
	for _, h := range hashes {
		fmt.Fprintf(&b, "    %q = {\n%s\n    }\n", h, keys[h])
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

// migratedHashes are all the hashes the server received in migrateKeys requests.
func (u localUnkey) migratedHashes() []string {
	var out []string
	for _, r := range u.RequestsTo("/v2/keys.migrateKeys") {
		out = append(out, r.Hashes...)
	}
	return out
}

// client is the provider's own Unkey client, pointed at the local API.
func (u localUnkey) client(t *testing.T) *unkeyclient.Client {
	t.Helper()
	c, err := unkeyclient.New(unkeyclient.Config{BaseURL: u.URL, RootKey: u.Seed.RootKey})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (u localUnkey) deleteAPI(t *testing.T, id string) {
	t.Helper()
	if err := u.client(t).DeleteAPI(context.Background(), id); err != nil {
		t.Fatal(err)
	}
}

// hashOf is Unkey's native hash: standard base64 of SHA-256 of the whole key.
func hashOf(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// generatedKeys returns a keys map of n hashes giving each a name.
func generatedKeys(prefix string, n int) map[string]string {
	keys := make(map[string]string, n)
	for i := range n {
		keys[hashOf(fmt.Sprintf("%s_legacy_key_%05d", prefix, i))] = fmt.Sprintf("      name = \"customer %d\"", i)
	}
	return keys
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// errorLike matches Terraform's output of an error containing each of parts
// in order, whatever the line wrapping; each part is literal text.
func errorLike(parts ...string) *regexp.Regexp {
	quoted := make([]string, len(parts))
	for i, p := range parts {
		words := strings.Fields(p)
		for j, w := range words {
			words[j] = regexp.QuoteMeta(w)
		}
		quoted[i] = strings.Join(words, `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(quoted, `.*`))
}

// urlUnsafeHash returns a native hash that contains '+' or '/', and the same
// hash in URL-safe base64.
func urlUnsafeHash() (std, urlSafe string) {
	for i := 0; ; i++ {
		h := hashOf(fmt.Sprint("unsafe_", i))
		if strings.ContainsAny(h, "+/") {
			return h, strings.NewReplacer("+", "-", "/", "_").Replace(h)
		}
	}
}
