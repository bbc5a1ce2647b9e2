package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
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
	_ resource.ResourceWithConfigure   = (*roleResource)(nil)
	_ resource.ResourceWithImportState = (*roleResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*roleResource)(nil)
)

// NewRoleResource is the unkey_role resource.
func NewRoleResource() resource.Resource { return &roleResource{} }

type roleResource struct {
	data *providerData
}

type roleModel struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	Description types.String `tfsdk:"description"`
	Permissions types.Set    `tfsdk:"permissions"`
}

func (r *roleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_role"
}

func (r *roleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		Description: "An Unkey RBAC role: a named set of permissions that keys (migrated or created) are given. Its permissions are changed in place; " +
			"Unkey cannot rename a role or change its description, so those replace it, and **replacing or deleting a role takes it from every key that has it**. " +
			"Import with `terraform import unkey_role.<name> <role ID or name>`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "The role's ID, such as `role_1234`.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Description:   "The role's name, which keys' `roles` refer to (1–128 characters, unique in the workspace). Changing it replaces the role.",
				Required:      true,
				Validators:    []validator.String{stringvalidator.LengthBetween(1, 128)},
				PlanModifiers: replace,
			},
			"description": schema.StringAttribute{
				Description:   "What the role is for (at most 512 characters). Changing it replaces the role.",
				Optional:      true,
				Validators:    []validator.String{stringvalidator.LengthBetween(1, 512)},
				PlanModifiers: replace,
			},
			"permissions": schema.SetAttribute{
				Description: "Slugs of the permissions the role grants, such as `unkey_permission.read.slug`. Set in place with Unkey's `permissions.setRolePermissions`; " +
					"slugs that do not exist yet are created by Unkey. Changes made outside Terraform show as a diff.",
				Optional:    true,
				ElementType: types.StringType,
				Validators: []validator.Set{setvalidator.ValueStringsAre(
					stringvalidator.LengthBetween(1, 128),
					stringvalidator.RegexMatches(permissionPattern, "may contain only letters, digits and the characters _ : - . *"),
				)},
			},
		},
	}
	resp.Schema.Description += permissionsSection("unkey_role")
}

func (r *roleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	r.data = data
}

// ModifyPlan warns before a role is replaced: the new role has none of the
// old one's keys.
func (r *roleResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	var state, plan roleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || (state.Name.Equal(plan.Name) && state.Description.Equal(plan.Description)) {
		return
	}
	resp.Diagnostics.AddWarning("Replacing an Unkey role takes it from its keys",
		fmt.Sprintf("Unkey cannot rename a role or change its description, so role %q is deleted and created again, and every key that has it loses it. "+
			"Keys whose configured roles change to the new role in this apply get it; the others do not: unkey_key shows the loss on the next plan, "+
			"but unkey_key_migration does not read its keys back, so its keys must be given the role again by changing their roles.", state.Name.ValueString()))
}

func (r *roleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan roleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	id, err := client.CreateRole(ctx, plan.Name.ValueString(), plan.Description.ValueString())
	var dup *unkeyclient.DuplicateRiskError
	switch {
	case errors.As(err, &dup):
		resp.Diagnostics.AddWarning("Another role may have been created", err.Error())
	case err != nil:
		resp.Diagnostics.AddError("Could not create the Unkey role", err.Error()+alreadyExistsHint(err, "unkey_role", plan.Name.ValueString()))
		return
	}
	plan.ID = types.StringValue(id)
	slugs, diags := setStrings(ctx, plan.Permissions)
	resp.Diagnostics.Append(diags...)
	if len(slugs) > 0 {
		if err := client.SetRolePermissions(ctx, id, slugs); err != nil {
			// The role exists: keep it in state (tainted) so it is not lost.
			resp.Diagnostics.AddAttributeError(path.Root("permissions"), "Could not give the new Unkey role its permissions", err.Error())
			plan.Permissions = types.SetNull(types.StringType)
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// setStrings returns a set of strings, sorted; nil for a null set.
func setStrings(ctx context.Context, s types.Set) ([]string, diag.Diagnostics) {
	if s.IsNull() || s.IsUnknown() {
		return nil, nil
	}
	var out []string
	diags := s.ElementsAs(ctx, &out, false)
	sort.Strings(out)
	return out, diags
}

// stringSetOf is a set of strings; an empty one is null when prior is null,
// so that an unset attribute does not show a diff against Unkey's [].
func stringSetOf(values []string, prior types.Set) types.Set {
	if len(values) == 0 && prior.IsNull() {
		return types.SetNull(types.StringType)
	}
	elems := make([]string, len(values))
	copy(elems, values)
	v, _ := types.SetValueFrom(context.Background(), types.StringType, elems)
	return v
}

func (r *roleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state roleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	role, err := client.GetRole(ctx, state.ID.ValueString())
	if unkeyclient.IsNotFound(err) {
		goneFromUnkey(ctx, resp, "role", state.ID.ValueString())
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not read the Unkey role", err.Error())
		return
	}
	state.ID, state.Name = types.StringValue(role.ID), types.StringValue(role.Name)
	state.Description = optionalString(role.Description)
	state.Permissions = stringSetOf(role.Permissions, state.Permissions)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update can only be about permissions: the rest forces replacement.
func (r *roleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state roleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	slugs, diags := setStrings(ctx, plan.Permissions)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = state.ID
	if err := client.SetRolePermissions(ctx, state.ID.ValueString(), slugs); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("permissions"), "Could not set the Unkey role's permissions", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *roleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state roleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := client.DeleteRole(ctx, state.ID.ValueString())
	if unkeyclient.IsNotFound(err) {
		goneAtDelete(resp, "role", state.ID.ValueString())
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not delete the Unkey role", err.Error())
	}
}

// ImportState takes an ID or a name; Read records the ID.
func (r *roleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
