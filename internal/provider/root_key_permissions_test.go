package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// Every resource and data source of the provider has its root key
// permissions in the table, and the new ones show it in their description.
func TestRootKeyPermissionsCoverEveryType(t *testing.T) {
	ctx := context.Background()
	p := &unkeyProvider{}
	described := map[string]bool{"unkey_permission": true, "unkey_role": true, "unkey_identity": true, "unkey_key": true}
	for _, f := range p.Resources(ctx) {
		r := f()
		var meta resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "unkey"}, &meta)
		if len(resourcePermissions[meta.TypeName]) == 0 {
			t.Errorf("%s: no root key permissions in the table", meta.TypeName)
		}
		var s resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &s)
		if described[meta.TypeName] && !strings.Contains(s.Schema.Description, "**Root key permissions**") {
			t.Errorf("%s: its description does not list the root key permissions", meta.TypeName)
		}
	}
	for _, f := range p.DataSources(ctx) {
		d := f()
		var meta datasource.MetadataResponse
		d.Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: "unkey"}, &meta)
		if meta.TypeName == "unkey_api" || meta.TypeName == "unkey_key" {
			continue // older data sources, documented on the provider page
		}
		var s datasource.SchemaResponse
		d.Schema(ctx, datasource.SchemaRequest{}, &s)
		if !strings.Contains(s.Schema.Description, "`"+resourcePermissions["data."+meta.TypeName][0].permission+"`") {
			t.Errorf("data.%s: its description does not list its root key permission", meta.TypeName)
		}
	}
}
