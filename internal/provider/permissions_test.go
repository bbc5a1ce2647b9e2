package provider

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
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
		if p.ID == "" || p.Type == "" || p.What == "" || len(p.Endpoints) == 0 || len(p.Needs) == 0 || seen[p.ID] {
			t.Errorf("incomplete or duplicate row %+v", p)
		}
		if (len(p.Also) == 0) != (p.AlsoWhen == "") {
			t.Errorf("row %s: Also and AlsoWhen go together", p.ID)
		}
		seen[p.ID] = true
		for _, perm := range append(slices.Clone(p.Needs), p.Also...) {
			if !strings.HasPrefix(perm, "api.*.") && !strings.HasPrefix(perm, "rbac.*.") && !strings.HasPrefix(perm, "identity.*.") {
				t.Errorf("row %s: %q is not api.*.X, rbac.*.X or identity.*.X", p.ID, perm)
			}
		}
	}
}

// Every resource and data source has rows in the table and shows them on
// its page; every row belongs to one of them.
func TestPermissionsSectionOnEveryPage(t *testing.T) {
	ctx := context.Background()
	p := &unkeyProvider{}
	descriptions := map[string]string{}
	for _, f := range p.Resources(ctx) {
		r := f()
		var meta resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "unkey"}, &meta)
		var s resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &s)
		descriptions[meta.TypeName] = s.Schema.Description
	}
	for _, f := range p.DataSources(ctx) {
		d := f()
		var meta datasource.MetadataResponse
		d.Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: "unkey"}, &meta)
		var s datasource.SchemaResponse
		d.Schema(ctx, datasource.SchemaRequest{}, &s)
		descriptions["data."+meta.TypeName] = s.Schema.Description
	}
	rows := map[string]int{}
	for _, row := range rootKeyPermissions {
		if _, ok := descriptions[row.Type]; !ok {
			t.Errorf("row %s: the provider has no %s", row.ID, row.Type)
		}
		rows[row.Type]++
	}
	for typeName, description := range descriptions {
		section := permissionsSection(typeName)
		if rows[typeName] == 0 {
			t.Errorf("%s: no root key permissions in rootKeyPermissions", typeName)
		}
		if !strings.HasSuffix(description, section) {
			t.Errorf("%s: its description does not end with its permissions section:\n%s", typeName, section)
		}
		if got := strings.Count(section, "\n| ") - 1; got != rows[typeName] {
			t.Errorf("%s: its section has %d rows, the table %d", typeName, got, rows[typeName])
		}
	}
}

// The table agrees with the local API, Unkey's stand-in, on every endpoint
// it names: each permission an endpoint always checks is listed in the row,
// and each permission the row lists is checked by one of its endpoints.
func TestPermissionsTableAgreesWithTheLocalAPI(t *testing.T) {
	for _, row := range rootKeyPermissions {
		listed := append(slices.Clone(row.Needs), row.Also...)
		var checked []string
		for _, endpoint := range row.Endpoints {
			needs, conditional, ok := unkeylocal.EndpointNeeds(endpoint)
			if !ok {
				t.Errorf("row %s: the local API has no %s", row.ID, endpoint)
			}
			for _, need := range needs {
				if !slices.Contains(listed, need) {
					t.Errorf("row %s: %s checks %s, which the row does not list", row.ID, endpoint, need)
				}
			}
			checked = append(append(checked, needs...), conditional...)
		}
		for _, perm := range listed {
			if !slices.Contains(checked, perm) {
				t.Errorf("row %s lists %s, which none of %v checks", row.ID, perm, row.Endpoints)
			}
		}
	}
}
