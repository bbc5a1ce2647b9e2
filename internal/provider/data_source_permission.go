package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*permissionDataSource)(nil)

// NewPermissionDataSource is the unkey_permission data source.
func NewPermissionDataSource() datasource.DataSource { return &permissionDataSource{} }

type permissionDataSource struct {
	data *providerData
}

func (d *permissionDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_permission"
}

func (d *permissionDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Reads an existing Unkey permission by ID or by slug, for example one a migration created on the fly.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description: "The permission's ID, such as `perm_1234`. Give either `id` or `slug`.",
				Optional:    true,
				Computed:    true,
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 128),
					stringvalidator.ExactlyOneOf(path.MatchRoot("slug")),
				},
			},
			"slug": schema.StringAttribute{
				Description: "The permission's slug, such as `documents.read`. Give either `id` or `slug`.",
				Optional:    true,
				Computed:    true,
				Validators:  []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"name":        schema.StringAttribute{Description: "The permission's name.", Computed: true},
			"description": schema.StringAttribute{Description: "The permission's description; null when it has none.", Computed: true},
		},
	}
	resp.Schema.Description += permissionsSection("data.unkey_permission")
}

func (d *permissionDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	d.data = data
}

func (d *permissionDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m permissionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	client, diags := clientFrom(d.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ref := m.ID.ValueString()
	if m.ID.IsNull() {
		ref = m.Slug.ValueString()
	}
	p, err := client.GetPermission(ctx, ref)
	if err != nil {
		resp.Diagnostics.AddError("Could not read the Unkey permission", err.Error())
		return
	}
	m.ID, m.Name, m.Slug = types.StringValue(p.ID), types.StringValue(p.Name), types.StringValue(p.Slug)
	m.Description = optionalString(p.Description)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
