package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

var (
	_ resource.ResourceWithConfigure   = (*keyResource)(nil)
	_ resource.ResourceWithImportState = (*keyResource)(nil)
)

// NewKeyResource is the unkey_key resource.
func NewKeyResource() resource.Resource { return &keyResource{} }

type keyResource struct {
	data *providerData
}

type keyModel struct {
	ID          types.String         `tfsdk:"id"`
	APIID       types.String         `tfsdk:"api_id"`
	Prefix      types.String         `tfsdk:"prefix"`
	ByteLength  types.Int64          `tfsdk:"byte_length"`
	Recoverable types.Bool           `tfsdk:"recoverable"`
	Key         types.String         `tfsdk:"key"`
	Name        types.String         `tfsdk:"name"`
	ExternalID  types.String         `tfsdk:"external_id"`
	Meta        jsontypes.Normalized `tfsdk:"meta"`
	Roles       types.Set            `tfsdk:"roles"`
	Permissions types.Set            `tfsdk:"permissions"`
	Expires     types.String         `tfsdk:"expires"`
	Enabled     types.Bool           `tfsdk:"enabled"`
	Credits     *creditsModel        `tfsdk:"credits"`
	Ratelimits  types.Set            `tfsdk:"ratelimits"`
}

var keyPrefixPattern = regexp.MustCompile(`^[a-zA-Z0-9_]+$`)

func (r *keyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_key"
}

// The settings Unkey takes only when it creates a key: changing them
// replaces the key, except after an import, which cannot read them.
func creationOnlyString() []planmodifier.String {
	return []planmodifier.String{stringplanmodifier.RequiresReplaceIf(changedFromKnown, "Changing it replaces the key.", "Changing it replaces the key.")}
}

func changedFromKnown(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
	resp.RequiresReplace = !req.StateValue.IsNull()
}

func (r *keyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	attrs := keySettingsAttributes()
	attrs["ratelimits"] = ratelimitSetAttribute("Rate limits of the key alone (an identity's rate limits are shared by its keys).")
	attrs["external_id"] = schema.StringAttribute{
		Description: "The ID of the key's owner in your system (1–255 characters of letters, digits and `_.-`); the key belongs to the identity of that external ID " +
			"(`unkey_identity`), which Unkey creates if needed.",
		Optional: true,
		Validators: []validator.String{
			stringvalidator.LengthBetween(1, 255),
			stringvalidator.RegexMatches(externalIDPattern, "may contain only letters, digits and the characters _ . -"),
		},
	}
	attrs["roles"] = withDescription(attrs["roles"], "Roles the key has, by name (at most 100). They must exist: declare them with `unkey_role` and refer to `unkey_role.<name>.name`.")
	attrs["permissions"] = withDescription(attrs["permissions"], "Permissions to give the key directly (at most 1000, each 1–128 characters of letters, digits and `_:-.*`); "+
		"Unkey creates permissions that do not exist yet. Unkey answers a key's permissions together with those its roles grant, without telling them apart, "+
		"so the provider keeps only the configured ones: one removed outside Terraform shows as a change, one given outside Terraform does not. Unset leaves them unmanaged.")
	attrs["id"] = schema.StringAttribute{
		Description:   "The key's ID, such as `key_1234` (not the key itself).",
		Computed:      true,
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
	attrs["api_id"] = schema.StringAttribute{
		Description:   "The API the key belongs to. Changing it replaces the key.",
		Required:      true,
		Validators:    []validator.String{stringvalidator.LengthBetween(3, 255)},
		PlanModifiers: creationOnlyString(),
	}
	attrs["prefix"] = schema.StringAttribute{
		Description: "A prefix Unkey puts before the key, such as `prod` for `prod_...` (1–16 letters, digits or `_`). Changing it replaces the key.",
		Optional:    true,
		Validators: []validator.String{
			stringvalidator.LengthBetween(1, 16),
			stringvalidator.RegexMatches(keyPrefixPattern, "may contain only letters, digits and _"),
		},
		PlanModifiers: creationOnlyString(),
	}
	attrs["byte_length"] = schema.Int64Attribute{
		Description: "How many random bytes the key has (16–255; Unkey's default is 16). Changing it replaces the key.",
		Optional:    true,
		Validators:  []validator.Int64{int64validator.Between(16, 255)},
		PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplaceIf(func(_ context.Context, req planmodifier.Int64Request, resp *int64planmodifier.RequiresReplaceIfFuncResponse) {
			resp.RequiresReplace = !req.StateValue.IsNull()
		}, "Changing it replaces the key.", "Changing it replaces the key.")},
	}
	attrs["recoverable"] = schema.BoolAttribute{
		Description: "Whether Unkey keeps the key encrypted so that it can be shown again (the API must have key encryption enabled). Unset means `false`. Changing it replaces the key.",
		Optional:    true,
		PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplaceIf(func(_ context.Context, req planmodifier.BoolRequest, resp *boolplanmodifier.RequiresReplaceIfFuncResponse) {
			resp.RequiresReplace = !req.StateValue.IsNull()
		}, "Changing it replaces the key.", "Changing it replaces the key.")},
	}
	attrs["key"] = schema.StringAttribute{
		Description: "The key itself, to hand to its user. Unkey shows it only once, when it creates the key, so **the provider keeps it in Terraform state** " +
			"(in plain text, like every state value: protect the state, or use `unkey_key_migration` for keys you issue yourself). " +
			"Sensitive, so plans and output hide it. Null after an import, which cannot read it.",
		Computed:      true,
		Sensitive:     true,
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
	resp.Schema = schema.Schema{
		Description: "A key that Unkey creates (`keys.createKey`), with its settings updated in place like a migrated key's " +
			"(`keys.updateKey`, `keys.setRoles`, `keys.setPermissions`). Its plaintext is in the `key` attribute, and so in state. " +
			"A key deleted outside Terraform leaves state with a warning and is created again, with a new plaintext; " +
			"but a 404 for a key whose API is not found either (Unkey's answer for a root key of another workspace too) never removes it from state, " +
			"and a destroy then fails without deleting anything (`terraform state rm` or a `removed` block lets go of it). " +
			"Import with `terraform import unkey_key.<name> <key ID>` or `<API ID>/<key ID>`; " +
			"an import cannot read the key's plaintext, `prefix`, `byte_length` or `recoverable`, so the next apply records them from the configuration without replacing the key.",
		Attributes: attrs,
	}
	resp.Schema.Description += permissionsSection("unkey_key")
}

// withDescription replaces a set attribute's description.
func withDescription(a schema.Attribute, description string) schema.Attribute {
	if s, ok := a.(schema.SetAttribute); ok {
		s.Description = description
		return s
	}
	return a
}

func (r *keyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	r.data = data
}

// settings is the key's configuration in Unkey's terms.
func (m keyModel) settings(ctx context.Context) (unkeyclient.Key, diag.Diagnostics) {
	var diags diag.Diagnostics
	roles, d := setStrings(ctx, m.Roles)
	diags.Append(d...)
	perms, d := setStrings(ctx, m.Permissions)
	diags.Append(d...)
	if m.Roles.IsNull() {
		roles = nil
	} else if roles == nil {
		roles = []string{}
	}
	if m.Permissions.IsNull() {
		perms = nil
	} else if perms == nil {
		perms = []string{}
	}
	k, err := keySettingsModel{
		Name: m.Name, ExternalID: m.ExternalID, Meta: m.Meta, Expires: m.Expires, Enabled: m.Enabled, Credits: m.Credits,
	}.toClientKey("")
	if err != nil {
		diags.AddError("Invalid key settings", strings.TrimPrefix(err.Error(), `keys[""].`))
	}
	k.Roles, k.Permissions = roles, perms
	rls, d := clientRatelimits(ctx, m.Ratelimits)
	diags.Append(d...)
	k.Ratelimits = rls
	return k, diags
}

func (r *keyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan keyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	settings, diags := plan.settings(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	created, err := client.CreateKey(ctx, unkeyclient.NewKey{
		APIID: plan.APIID.ValueString(), Prefix: plan.Prefix.ValueString(), ByteLength: plan.ByteLength.ValueInt64(),
		Recoverable: plan.Recoverable.ValueBool(), Key: settings,
	})
	var dup *unkeyclient.DuplicateRiskError
	switch {
	case errors.As(err, &dup):
		resp.Diagnostics.AddWarning("Another key may have been created", err.Error())
	case err != nil:
		resp.Diagnostics.AddError("Could not create the Unkey key", err.Error())
		return
	}
	plan.ID, plan.Key = types.StringValue(created.ID), types.StringValue(created.Key)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *keyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state keyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	info, err := client.GetKey(ctx, state.ID.ValueString())
	if unkeyclient.IsNotFound(err) {
		apiErr := keyGone(ctx, client, state.APIID)
		switch {
		case apiErr == nil:
			goneFromUnkey(ctx, resp, "key", state.ID.ValueString())
		case unkeyclient.IsNotFound(apiErr), unkeyclient.IsForbidden(apiErr):
			resp.Diagnostics.AddWarning("Unkey key not found with this root key", r.notFoundDetail(state, err, apiErr,
				"Meanwhile the key stays in state, with its plaintext: a 404 never removes it, and no other key is created."))
		default:
			resp.Diagnostics.AddError("Could not read the Unkey key",
				fmt.Sprintf("%s; checking whether the root key sees the key's API then failed: %s", err, apiErr))
		}
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not read the Unkey key", err.Error())
		return
	}
	imported, diags := req.Private.GetKey(ctx, importedKey)
	resp.Diagnostics.Append(diags...)
	if len(imported) > 0 {
		// Nothing tells an imported key's own permissions from its roles': take all.
		state.Permissions = types.SetNull(types.StringType)
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, importedKey, nil)...)
	}
	resp.Diagnostics.Append(state.setFrom(ctx, info, len(imported) > 0)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// importedKey marks in private state a key just imported, for its first Read.
const importedKey = "imported"

// ownPermissions picks the key's own permissions out of what keys.getKey
// answers: Unkey adds those the key's roles grant, without saying which
// (svc/api/routes/v2_keys_get_key/handler.go, "combine direct + role
// permissions"). Without reading every role, the provider keeps of the prior
// value what Unkey still has: the removal of a configured permission shows,
// a permission given outside Terraform does not. After an import, all.
func ownPermissions(answered []string, prior types.Set, imported bool) types.Set {
	if imported || prior.IsUnknown() {
		return stringSetOf(answered, types.SetNull(types.StringType))
	}
	if prior.IsNull() {
		return prior
	}
	has := make(map[string]bool, len(answered))
	for _, p := range answered {
		has[p] = true
	}
	var kept []string
	for _, e := range prior.Elements() {
		if v, ok := e.(types.String); ok && has[v.ValueString()] {
			kept = append(kept, v.ValueString())
		}
	}
	return stringSetOf(kept, prior)
}

// setFrom records what Unkey has, keeping the prior spelling of values that
// mean the same (an unset enabled that is true, the same instant written
// another way, ...).
func (m *keyModel) setFrom(ctx context.Context, info unkeyclient.KeyInfo, imported bool) diag.Diagnostics {
	var diags diag.Diagnostics
	m.Name, m.ExternalID = types.StringPointerValue(info.Name), types.StringPointerValue(info.ExternalID)
	meta, err := metaValue(info.Meta, m.Meta)
	if err != nil {
		diags.AddAttributeError(path.Root("meta"), "Unreadable meta from Unkey", err.Error())
	}
	m.Meta = meta
	m.Roles = stringSetOf(info.Roles, m.Roles)
	m.Permissions = ownPermissions(info.Permissions, m.Permissions, imported)
	m.Expires = expiresValue(info.ExpiresMs, m.Expires)
	if !m.Enabled.IsNull() || !info.Enabled {
		m.Enabled = types.BoolValue(info.Enabled)
	}
	m.Credits = creditsFrom(info.Credits)
	rls, d := ratelimitSetOf(ctx, info.Ratelimits, m.Ratelimits)
	diags.Append(d...)
	m.Ratelimits = rls
	return diags
}

func expiresValue(ms *int64, prior types.String) types.String {
	if ms == nil {
		return types.StringNull()
	}
	if t, err := time.Parse(time.RFC3339, prior.ValueString()); err == nil && t.UnixMilli() == *ms {
		return prior
	}
	return types.StringValue(time.UnixMilli(*ms).UTC().Format(time.RFC3339Nano))
}

func creditsFrom(c *unkeyclient.Credits) *creditsModel {
	if c == nil {
		return nil
	}
	out := &creditsModel{Remaining: types.Int64Value(c.Remaining)}
	if r := c.Refill; r != nil {
		out.Refill = &refillModel{Interval: types.StringValue(r.Interval), Amount: types.Int64Value(r.Amount), RefillDay: types.Int64PointerValue(r.RefillDay)}
	}
	return out
}

// Update sends only what changed: keys.updateKey for the settings, and
// keys.setRoles and keys.setPermissions for roles and permissions.
func (r *keyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state keyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	old, diags := state.settings(ctx)
	resp.Diagnostics.Append(diags...)
	want, diags := plan.settings(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()
	change := diffSettings(old, want)
	if err := client.UpdateKey(ctx, id, want, change.fields); err != nil {
		resp.Diagnostics.AddError("Could not update the Unkey key", err.Error())
		return
	}
	if change.rolesChanged {
		if err := client.SetRoles(ctx, id, want.Roles); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("roles"), "Could not set the Unkey key's roles", err.Error()+roleMissingHint(err))
			return
		}
	}
	if change.permissionsChanged {
		if err := client.SetPermissions(ctx, id, want.Permissions); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("permissions"), "Could not set the Unkey key's permissions", err.Error())
			return
		}
	}
	plan.ID, plan.Key = state.ID, state.Key
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func roleMissingHint(err error) string {
	if unkeyclient.IsNotFound(err) {
		return "\n\nUnkey only gives keys roles that exist: declare the role with unkey_role and refer to unkey_role.<name>.name, so that it is created first."
	}
	return ""
}

func (r *keyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state keyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := client.DeleteKey(ctx, state.ID.ValueString())
	if unkeyclient.IsNotFound(err) {
		if apiErr := keyGone(ctx, client, state.APIID); apiErr != nil {
			resp.Diagnostics.AddError("Unkey key not found with this root key", r.notFoundDetail(state, err, apiErr,
				"Nothing was deleted, and the key stays in state: a 404 does not prove it deleted."))
			return
		}
		err = nil // the root key sees the key's API: the key is gone already
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not delete the Unkey key", err.Error())
	}
}

// keyGone tells whether a 404 for a key proves it deleted: it does when the
// root key sees the key's API, and it returns why not otherwise. Unkey
// answers 404 for a key of another workspace as well, and checks read_api
// before it looks an API up, so a 403 for the API proves nothing
// (svc/api/routes/v2_keys_get_key/handler.go, v2_apis_get_api/handler.go).
// A key imported by its ID alone has no api_id until the next apply: its
// 404 is taken as before, so that importing a missing key fails.
func keyGone(ctx context.Context, client *unkeyclient.Client, apiID types.String) error {
	if apiID.ValueString() == "" {
		return nil // imported without it, until the next apply: nothing to check against
	}
	_, err := client.GetAPI(ctx, apiID.ValueString())
	return err
}

// notFoundDetail explains a 404 for a key whose API the root key does not
// see either (apiErr): the key may be deleted, or of another workspace.
func (r *keyResource) notFoundDetail(state keyModel, err, apiErr error, meanwhile string) string {
	api := fmt.Sprintf("and neither was its API %s", state.APIID.ValueString())
	if unkeyclient.IsForbidden(apiErr) {
		api = fmt.Sprintf("and the root key may not read its API %s (apis.getApi answered 403: no read_api permission; Unkey checks it before looking the API up), "+
			"so nothing tells whether the root key is of the key's workspace: granting it api.*.read_api would", state.APIID.ValueString())
	}
	return fmt.Sprintf("The key %s was not found with the root key from %s (%s), %s.\n\n"+
		"Unkey answers the same in two cases, and nothing in its answer tells them apart:\n"+
		"- The root key belongs to another workspace than the key (for example a staging root key in a production pipeline): "+
		"configure the root key of the key's workspace. Nothing else needs to change.\n"+
		"- The key (or its API) was deleted in Unkey: to let go of it deliberately, run `terraform state rm` on this unkey_key, "+
		"or replace its resource block with a `removed` block (Terraform 1.7+).\n\n%s",
		state.ID.ValueString(), r.data.rootKeySource, err, api, meanwhile)
}

// ImportState takes a key ID, or <API ID>/<key ID>: Unkey's keys.getKey
// does not say which API a key belongs to.
func (r *keyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	apiID, keyID, found := strings.Cut(req.ID, "/")
	if !found {
		keyID, apiID = req.ID, ""
	}
	if keyID == "" || (found && apiID == "") {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("Expected a key ID such as key_1234, or <API ID>/<key ID> such as api_1234/key_1234; got %q.", req.ID))
		return
	}
	if apiID != "" && r.data != nil && r.data.client != nil {
		// Read keeps a key whose API is not found either: an import must not.
		if _, err := r.data.client.GetKey(ctx, keyID); err != nil {
			resp.Diagnostics.AddError("Cannot import the Unkey key", fmt.Sprintf("Reading the key %s failed: %s", keyID, err))
			return
		}
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, importedKey, []byte("true"))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), keyID)...)
	if apiID != "" {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("api_id"), apiID)...)
	}
}
