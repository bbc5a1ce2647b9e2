package provider

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the permissions tables in templates/ from rootKeyPermissions")

const (
	permissionsStart = "<!-- root-key-permissions:start -->\n"
	permissionsEnd   = "<!-- root-key-permissions:end -->"
)

// The docs' sources carry the permissions table exactly as the code has it.
// After changing rootKeyPermissions:
// go test ./internal/provider -run TestPermissionsTableInDocs -update-docs
func TestPermissionsTableInDocs(t *testing.T) {
	want := permissionsMarkdown()
	for _, file := range []string{"index.md.tmpl", filepath.Join("guides", "migrating-existing-api-keys.md.tmpl")} {
		path := filepath.Join("..", "..", "templates", file)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		start, end := strings.Index(text, permissionsStart), strings.Index(text, permissionsEnd)
		if start < 0 || end < start {
			t.Fatalf("%s has no %q ... %q section", path, permissionsStart, permissionsEnd)
		}
		got := text[start+len(permissionsStart) : end]
		if got == want {
			continue
		}
		if *updateDocs {
			text = text[:start+len(permissionsStart)] + want + text[end:]
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s: the root key permissions differ from rootKeyPermissions; run this test with -update-docs. It has:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestPermissionsTableIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range rootKeyPermissions {
		if p.ID == "" || p.What == "" || len(p.Endpoints) == 0 || len(p.Needs) == 0 || seen[p.ID] {
			t.Errorf("incomplete or duplicate row %+v", p)
		}
		seen[p.ID] = true
		for _, perm := range p.Needs {
			if !strings.HasPrefix(perm, "api.*.") && !strings.HasPrefix(perm, "rbac.*.") {
				t.Errorf("row %s: %q is not api.*.X or rbac.*.X", p.ID, perm)
			}
		}
	}
}
