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
	_ resource.ResourceWithConfigure   = (*permissionResource)(nil)
	_ resource.ResourceWithImportState = (*permissionResource)(nil)
)

// NewPermissionResource is the unkey_permission resource.
func NewPermissionResource() resource.Resource { return &permissionResource{} }

type permissionResource struct {
	data *providerData
}

type permissionModel struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	Slug        types.String `tfsdk:"slug"`
	Description types.String `tfsdk:"description"`
}

func (r *permissionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_permission"
}

func (r *permissionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		Description: "An Unkey RBAC permission, which roles grant and keys hold. Unkey cannot change a permission, so any change replaces it; " +
			"deleting a permission takes it from every role and key. Import with `terraform import unkey_permission.<name> <permission ID or slug>`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "The permission's ID, such as `perm_1234`.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Description:   "A human-readable name (1–512 characters). Changing it replaces the permission.",
				Required:      true,
				Validators:    []validator.String{stringvalidator.LengthBetween(1, 512)},
				PlanModifiers: replace,
			},
			"slug": schema.StringAttribute{
				Description: "What keys, roles and verifications name the permission by, such as `documents.read` (1–128 characters of letters, digits and `_:-.*`; " +
					"unique in the workspace). Changing it replaces the permission.",
				Required: true,
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 128),
					stringvalidator.RegexMatches(permissionPattern, "may contain only letters, digits and the characters _ : - . *"),
				},
				PlanModifiers: replace,
			},
			"description": schema.StringAttribute{
				Description:   "What the permission grants (at most 512 characters). Changing it replaces the permission.",
				Optional:      true,
				Validators:    []validator.String{stringvalidator.LengthBetween(1, 512)},
				PlanModifiers: replace,
			},
		},
	}
	resp.Schema.Description += permissionsSection("unkey_permission")
}

func (r *permissionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	r.data = data
}

func (r *permissionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan permissionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	id, err := client.CreatePermission(ctx, unkeyclient.Permission{
		Name: plan.Name.ValueString(), Slug: plan.Slug.ValueString(), Description: plan.Description.ValueString(),
	})
	var dup *unkeyclient.DuplicateRiskError
	switch {
	case errors.As(err, &dup):
		resp.Diagnostics.AddWarning("Another permission may have been created", err.Error())
	case err != nil:
		resp.Diagnostics.AddError("Could not create the Unkey permission", err.Error()+alreadyExistsHint(err, "unkey_permission", plan.Slug.ValueString()))
		return
	}
	plan.ID = types.StringValue(id)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// alreadyExistsHint tells what to do about a 409: the object exists already
// and can be imported instead of created.
func alreadyExistsHint(err error, resourceType, ref string) string {
	var apiErr *unkeyclient.APIError
	if errors.As(err, &apiErr) && apiErr.Status == 409 {
		return fmt.Sprintf("\n\nIt exists already in Unkey: bring it under Terraform with `terraform import %s.<name> %s`, or choose another one.", resourceType, ref)
	}
	return ""
}

func (r *permissionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state permissionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := client.GetPermission(ctx, state.ID.ValueString())
	if unkeyclient.IsNotFound(err) {
		goneFromUnkey(ctx, resp, "permission", state.ID.ValueString())
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not read the Unkey permission", err.Error())
		return
	}
	state.ID, state.Name, state.Slug = types.StringValue(p.ID), types.StringValue(p.Name), types.StringValue(p.Slug)
	state.Description = optionalString(p.Description)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// goneFromUnkey removes a resource Unkey no longer has from state, with a
// warning: it is created again if still configured. A 404 may also mean the
// root key is of another workspace, which the warning says.
func goneFromUnkey(ctx context.Context, resp *resource.ReadResponse, what, id string) {
	resp.Diagnostics.AddWarning(fmt.Sprintf("Unkey %s no longer exists", what),
		fmt.Sprintf("The %s %s was not found in Unkey (deleted outside Terraform, or the root key belongs to another workspace); "+
			"it is removed from state and will be created again if still configured.", what, id))
	resp.State.RemoveResource(ctx)
}

// optionalString is "" as null: Unkey does not tell an empty optional
// string from an absent one.
func optionalString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func (r *permissionResource) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {
	// Every attribute forces replacement; there is nothing to update in place.
}

func (r *permissionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state permissionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := client.DeletePermission(ctx, state.ID.ValueString())
	if unkeyclient.IsNotFound(err) {
		goneAtDelete(resp, "permission", state.ID.ValueString())
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not delete the Unkey permission", err.Error())
	}
}

// goneAtDelete warns that a destroy found nothing to delete. Unkey answers
// 404 for a thing of another workspace too, but a permission, role or
// identity has no API whose visibility would tell: the destroy goes on, and
// says what the 404 may hide.
func goneAtDelete(resp *resource.DeleteResponse, what, id string) {
	resp.Diagnostics.AddWarning(fmt.Sprintf("Unkey %s not found with this root key", what),
		fmt.Sprintf("Destroying the %s %s, Unkey answered that it does not exist: either it was deleted outside Terraform, "+
			"or the root key belongs to another workspace than the %s, which then still exists there (delete it in that workspace's dashboard, "+
			"or import it back with that workspace's root key). It is removed from state.", what, id, what))
}

// ImportState takes an ID or a slug; Read records the ID.
func (r *permissionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
