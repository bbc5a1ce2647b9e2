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

var _ datasource.DataSourceWithConfigure = (*roleDataSource)(nil)

// NewRoleDataSource is the unkey_role data source.
func NewRoleDataSource() datasource.DataSource { return &roleDataSource{} }

type roleDataSource struct {
	data *providerData
}

func (d *roleDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_role"
}

func (d *roleDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Reads an existing Unkey role by ID or by name, with the permissions it grants.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description: "The role's ID, such as `role_1234`. Give either `id` or `name`.",
				Optional:    true,
				Computed:    true,
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 128),
					stringvalidator.ExactlyOneOf(path.MatchRoot("name")),
				},
			},
			"name": schema.StringAttribute{
				Description: "The role's name. Give either `id` or `name`.",
				Optional:    true,
				Computed:    true,
				Validators:  []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"description": schema.StringAttribute{Description: "The role's description; null when it has none.", Computed: true},
			"permissions": schema.SetAttribute{
				Description: "Slugs of the permissions the role grants.",
				Computed:    true,
				ElementType: types.StringType,
			},
		},
	}
	resp.Schema.Description += permissionsSection("data.unkey_role")
}

func (d *roleDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	d.data = data
}

func (d *roleDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m roleModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	client, diags := clientFrom(d.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ref := m.ID.ValueString()
	if m.ID.IsNull() {
		ref = m.Name.ValueString()
	}
	role, err := client.GetRole(ctx, ref)
	if err != nil {
		resp.Diagnostics.AddError("Could not read the Unkey role", err.Error())
		return
	}
	m.ID, m.Name = types.StringValue(role.ID), types.StringValue(role.Name)
	m.Description = optionalString(role.Description)
	m.Permissions = stringSetOf(role.Permissions, types.SetValueMust(types.StringType, nil))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
