package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*identityDataSource)(nil)

// NewIdentityDataSource is the unkey_identity data source.
func NewIdentityDataSource() datasource.DataSource { return &identityDataSource{} }

type identityDataSource struct {
	data *providerData
}

func (d *identityDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_identity"
}

func (d *identityDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Reads an existing Unkey identity by ID or by external ID, for example one a migration created for its keys' owner.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description: "The identity's ID, such as `id_1234`. Give either `id` or `external_id`.",
				Optional:    true,
				Computed:    true,
				Validators: []validator.String{
					stringvalidator.LengthAtLeast(1),
					stringvalidator.ExactlyOneOf(path.MatchRoot("external_id")),
				},
			},
			"external_id": schema.StringAttribute{
				Description: "Your system's ID for the owner. Give either `id` or `external_id`.",
				Optional:    true,
				Computed:    true,
				Validators:  []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"meta": schema.StringAttribute{
				Description: "The identity's metadata as a JSON object (`jsondecode` it); null when it has none.",
				Computed:    true,
				CustomType:  jsontypes.NormalizedType{},
			},
			"ratelimits": schema.SetNestedAttribute{
				Description: "Rate limits shared by the identity's keys.",
				Computed:    true,
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"name":       schema.StringAttribute{Description: "The rate limit's name.", Computed: true},
						"limit":      schema.Int64Attribute{Description: "Requests allowed per window.", Computed: true},
						"duration":   schema.StringAttribute{Description: "The window, as a Go duration in its largest whole unit, such as `1m`.", Computed: true},
						"auto_apply": schema.BoolAttribute{Description: "Whether verifications use this limit without naming it.", Computed: true},
					},
				},
			},
		},
	}
	resp.Schema.Description += permissionsSection("data.unkey_identity")
}

func (d *identityDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	d.data = data
}

func (d *identityDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m identityModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	client, diags := clientFrom(d.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ref := m.ID.ValueString()
	if m.ID.IsNull() {
		ref = m.ExternalID.ValueString()
	}
	got, err := client.GetIdentity(ctx, ref)
	if err != nil {
		resp.Diagnostics.AddError("Could not read the Unkey identity", err.Error())
		return
	}
	m.Ratelimits = types.SetValueMust(ratelimitObjectType, nil) // an empty set, not null
	resp.Diagnostics.Append(m.setFrom(ctx, got)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
