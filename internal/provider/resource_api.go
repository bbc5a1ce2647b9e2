package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

var (
	_ resource.ResourceWithConfigure   = (*apiResource)(nil)
	_ resource.ResourceWithImportState = (*apiResource)(nil)
)

// NewAPIResource is the unkey_api resource.
func NewAPIResource() resource.Resource { return &apiResource{} }

type apiResource struct {
	data *providerData
}

type apiModel struct {
	ID   types.String `tfsdk:"id"`
	Name types.String `tfsdk:"name"`
}

func (r *apiResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_api"
}

func (r *apiResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "An Unkey API: the namespace keys are issued and migrated into. Import with `terraform import unkey_api.<name> <api ID>`.\n\n" +
			"Unkey answers 404 both for a deleted API and for an API of another workspace (a root key of the wrong workspace), so a 404 never removes the API from state: " +
			"the plan warns, naming both causes, and creates nothing; a destroy fails without deleting anything. " +
			"If the API was really deleted, let go of it with `terraform state rm` or a `removed` block, then apply to create it again.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "The API's ID, such as `api_1234`.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Description:   "The API's name (at least 3 characters). Unkey cannot rename an API, so changing it replaces the API, and its keys with it.",
				Required:      true,
				Validators:    []validator.String{stringvalidator.LengthAtLeast(3)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
		},
	}
	resp.Schema.Description += permissionsSection("unkey_api")
}

func (r *apiResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	r.data = data
}

func (r *apiResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan apiModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	id, err := client.CreateAPI(ctx, plan.Name.ValueString())
	var dup *unkeyclient.DuplicateRiskError
	switch {
	case errors.As(err, &dup):
		resp.Diagnostics.AddWarning("Another API may have been created", err.Error())
	case err != nil:
		resp.Diagnostics.AddError("Could not create the Unkey API", err.Error())
		return
	}
	plan.ID = types.StringValue(id)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *apiResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state apiModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	api, err := client.GetAPI(ctx, state.ID.ValueString())
	if unkeyclient.IsNotFound(err) {
		// Creating it again would create it in the root key's workspace, and
		// replace every unkey_key_migration whose api_id refers to it.
		resp.Diagnostics.AddWarning(apiNotFoundSummary, r.notFoundDetail(state.ID.ValueString(), err,
			"Meanwhile the API stays in state, unchanged: a 404 never removes it, and it is not created again."))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not read the Unkey API", err.Error())
		return
	}
	state.Name = types.StringValue(api.Name)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *apiResource) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {
	// Every attribute forces replacement; there is nothing to update in place.
}

func (r *apiResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state apiModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := client.DeleteAPI(ctx, state.ID.ValueString())
	switch {
	case unkeyclient.IsNotFound(err):
		resp.Diagnostics.AddError(apiNotFoundSummary, r.notFoundDetail(state.ID.ValueString(), err,
			"Nothing was deleted, and the API stays in state: a 404 does not prove it deleted."))
	case err != nil:
		resp.Diagnostics.AddError("Could not delete the Unkey API", err.Error())
	}
}

// notFoundDetail explains a 404 for the API: Unkey answers an API of another
// workspace exactly like a deleted one, so both causes are named, and only a
// deliberate act of the user lets go of it.
func (r *apiResource) notFoundDetail(apiID string, err error, meanwhile string) string {
	return fmt.Sprintf("The API %s was not found with the root key from %s: Unkey answered that it does not exist (%s).\n\n"+
		"Unkey answers the same in two cases, and nothing in its answer tells them apart:\n"+
		"- The root key belongs to another workspace than the API (for example a staging root key in a production pipeline): "+
		"configure the root key of the workspace that holds %s. Nothing else needs to change.\n"+
		"- The API was deleted in Unkey, and its keys with it: to let go of it deliberately, run `terraform state rm` on this unkey_api, "+
		"or replace its resource block with a `removed` block (Terraform 1.7+); an unkey_key_migration whose api_id refers to it keeps its key IDs until it is let go of the same way.\n\n%s",
		apiID, r.data.rootKeySource, err, apiID, meanwhile)
}

func (r *apiResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if r.data != nil && r.data.client != nil {
		// Read keeps an API it does not find: an import must not.
		if _, err := r.data.client.GetAPI(ctx, req.ID); err != nil {
			resp.Diagnostics.AddError("Cannot import the Unkey API", fmt.Sprintf("Reading the API %s failed: %s", req.ID, err))
			return
		}
	}
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
