package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*apiDataSource)(nil)

// NewAPIDataSource is the unkey_api data source.
func NewAPIDataSource() datasource.DataSource { return &apiDataSource{} }

type apiDataSource struct {
	data *providerData
}

func (d *apiDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_api"
}

func (d *apiDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Reads an existing Unkey API by ID, for example one created in the dashboard that keys are migrated into.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description: "The API's ID, such as `api_1234`.",
				Required:    true,
				Validators:  []validator.String{stringvalidator.LengthBetween(3, 255)},
			},
			"name": schema.StringAttribute{Description: "The API's name.", Computed: true},
		},
	}
	resp.Schema.Description += permissionsSection("data.unkey_api")
}

func (d *apiDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	d.data = data
}

func (d *apiDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m apiModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	client, diags := clientFrom(d.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	api, err := client.GetAPI(ctx, m.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Could not read the Unkey API", err.Error())
		return
	}
	m.Name = types.StringValue(api.Name)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
