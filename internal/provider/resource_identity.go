package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

var (
	_ resource.ResourceWithConfigure   = (*identityResource)(nil)
	_ resource.ResourceWithImportState = (*identityResource)(nil)
)

// NewIdentityResource is the unkey_identity resource.
func NewIdentityResource() resource.Resource { return &identityResource{} }

type identityResource struct {
	data *providerData
}

type identityModel struct {
	ID         types.String         `tfsdk:"id"`
	ExternalID types.String         `tfsdk:"external_id"`
	Meta       jsontypes.Normalized `tfsdk:"meta"`
	Ratelimits types.Set            `tfsdk:"ratelimits"`
}

var externalIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

func (r *identityResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_identity"
}

func (r *identityResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "An Unkey identity: the owner of keys, named by your system's ID for it (`external_id`), with metadata and rate limits " +
			"that all its keys share. Keys (migrated or created) whose `external_id` is this one belong to it.\n\n" +
			"Unkey creates an identity by itself the first time a key names an external ID, so a migration applied before this resource " +
			"may have created it already: this resource then **adopts** that identity (sets its `meta` and `ratelimits` to the configuration) " +
			"instead of failing, whichever of the two Terraform creates first. Destroying the resource deletes the identity; its keys stay, without an owner. " +
			"Import with `terraform import unkey_identity.<name> <identity ID or external ID>`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "The identity's ID, such as `id_1234`.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"external_id": schema.StringAttribute{
				Description: "Your system's ID for the owner (1–255 characters of letters, digits and `_.-`), as keys' `external_id` names it. " +
					"Unkey cannot change it, so changing it replaces the identity.",
				Required: true,
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 255),
					stringvalidator.RegexMatches(externalIDPattern, "may contain only letters, digits and the characters _ . -"),
				},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"meta": schema.StringAttribute{
				Description: "Metadata returned when any of the identity's keys is verified: a JSON object (use `jsonencode`) of at most 100 properties. " +
					"Compared semantically, so formatting does not matter. Updated in place.",
				Optional:   true,
				CustomType: jsontypes.NormalizedType{},
				Validators: []validator.String{jsonObjectValidator{maxProperties: 100}},
			},
			"ratelimits": ratelimitSetAttribute("Rate limits shared by all the identity's keys: a verification through any of them counts against the same window. Updated in place."),
		},
	}
	resp.Schema.Description += permissionsSection("unkey_identity")
}

// ratelimitSetAttribute is a set of rate limits: their order means nothing
// to Unkey, which does not keep it.
func ratelimitSetAttribute(description string) schema.SetNestedAttribute {
	return schema.SetNestedAttribute{
		Description: description + " At most 50, names unique.",
		Optional:    true,
		Validators:  []validator.Set{setvalidator.SizeAtMost(50), uniqueRatelimitNamesInSet{}},
		NestedObject: schema.NestedAttributeObject{
			Attributes: ratelimitAttributes(schema.BoolAttribute{
				Description: "Whether verifications use this limit without naming it. Defaults to `false`.",
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(false),
			}),
		},
	}
}

var ratelimitObjectType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"name": types.StringType, "limit": types.Int64Type, "duration": types.StringType, "auto_apply": types.BoolType,
}}

type uniqueRatelimitNamesInSet struct{}

func (uniqueRatelimitNamesInSet) Description(context.Context) string {
	return "rate limit names must be unique"
}
func (v uniqueRatelimitNamesInSet) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (uniqueRatelimitNamesInSet) ValidateSet(_ context.Context, req validator.SetRequest, resp *validator.SetResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	for _, name := range repeatedRatelimitNames(req.ConfigValue.Elements()) {
		resp.Diagnostics.AddAttributeError(req.Path, "Duplicate rate limit name",
			fmt.Sprintf("%s: the rate limit name %q is used twice; verifications select rate limits by name, so each must be unique.", req.Path, name))
	}
}

func (r *identityResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	r.data = data
}

// desired is the configuration in Unkey's terms.
func (m identityModel) desired(ctx context.Context) (map[string]any, []unkeyclient.Ratelimit, diag.Diagnostics) {
	meta, err := metaMap(m.Meta)
	var diags diag.Diagnostics
	if err != nil {
		diags.AddAttributeError(path.Root("meta"), "Invalid meta", err.Error())
	}
	rls, d := clientRatelimits(ctx, m.Ratelimits)
	diags.Append(d...)
	return meta, rls, diags
}

// metaMap decodes a JSON object attribute; nil when null.
func metaMap(v jsontypes.Normalized) (map[string]any, error) {
	if v.IsNull() || v.IsUnknown() {
		return nil, nil
	}
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader([]byte(v.ValueString())))
	dec.UseNumber() // keep large integers exact
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("meta must be a JSON object: %w", err)
	}
	return out, nil
}

// metaValue renders Unkey's meta; an empty one is null unless the prior
// value was an empty object too. The prior value is kept when it is Unkey's
// once its numbers go through float64, as Unkey's do (1e3 comes back 1000,
// 1.50 as 1.5): the configuration's spelling is not a change.
func metaValue(meta map[string]any, prior jsontypes.Normalized) (jsontypes.Normalized, error) {
	if len(meta) == 0 {
		if m, err := metaMap(prior); err == nil && m != nil && len(m) == 0 {
			return prior, nil
		}
		return jsontypes.NewNormalizedNull(), nil
	}
	b, err := json.Marshal(meta)
	if err != nil {
		return prior, err
	}
	if sameThroughFloat64(prior, b) {
		return prior, nil
	}
	return jsontypes.NewNormalizedValue(string(b)), nil
}

// sameThroughFloat64 reports whether a meta value decodes, numbers as
// float64, to the same as Unkey's answer.
func sameThroughFloat64(prior jsontypes.Normalized, unkeys []byte) bool {
	if prior.IsNull() || prior.IsUnknown() {
		return false
	}
	var a, b any
	if json.Unmarshal([]byte(prior.ValueString()), &a) != nil || json.Unmarshal(unkeys, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

func ratelimitModels(ctx context.Context, s types.Set) ([]ratelimitModel, diag.Diagnostics) {
	if s.IsNull() || s.IsUnknown() {
		return nil, nil
	}
	var out []ratelimitModel
	diags := s.ElementsAs(ctx, &out, false)
	return out, diags
}

// clientRatelimits converts a set of rate limits, sorted by name.
func clientRatelimits(ctx context.Context, s types.Set) ([]unkeyclient.Ratelimit, diag.Diagnostics) {
	models, diags := ratelimitModels(ctx, s)
	var out []unkeyclient.Ratelimit
	for _, rl := range models {
		d, err := time.ParseDuration(rl.Duration.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("ratelimits"), "Invalid rate limit duration", fmt.Sprintf("ratelimits %q: %v", rl.Name.ValueString(), err))
			continue
		}
		out = append(out, unkeyclient.Ratelimit{Name: rl.Name.ValueString(), Limit: rl.Limit.ValueInt64(), DurationMs: d.Milliseconds(), AutoApply: rl.AutoApply.ValueBool()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, diags
}

// ratelimitSetOf renders Unkey's rate limits, keeping the prior element of
// each that did not change (so "60s" does not come back as "1m").
func ratelimitSetOf(ctx context.Context, rls []unkeyclient.Ratelimit, prior types.Set) (types.Set, diag.Diagnostics) {
	priorModels, diags := ratelimitModels(ctx, prior)
	byName := map[string]ratelimitModel{}
	for _, m := range priorModels {
		byName[m.Name.ValueString()] = m
	}
	out := make([]ratelimitModel, 0, len(rls))
	for _, rl := range rls {
		if m, ok := byName[rl.Name]; ok && sameRatelimit(m, rl) {
			out = append(out, m)
			continue
		}
		out = append(out, ratelimitModel{
			Name: types.StringValue(rl.Name), Limit: types.Int64Value(rl.Limit),
			Duration: types.StringValue(formatWindow(rl.DurationMs)), AutoApply: types.BoolValue(rl.AutoApply),
		})
	}
	if len(out) == 0 && prior.IsNull() {
		return types.SetNull(ratelimitObjectType), diags
	}
	set, d := types.SetValueFrom(ctx, ratelimitObjectType, out)
	diags.Append(d...)
	return set, diags
}

// formatWindow writes a window in its largest whole unit ("1m", "24h",
// "90s", "1500ms"): what a configuration most likely says, so that an
// imported rate limit matches it.
func formatWindow(ms int64) string {
	for _, u := range []struct {
		ms   int64
		unit string
	}{{3_600_000, "h"}, {60_000, "m"}, {1000, "s"}} {
		if ms%u.ms == 0 {
			return fmt.Sprintf("%d%s", ms/u.ms, u.unit)
		}
	}
	return fmt.Sprintf("%dms", ms)
}

func sameRatelimit(m ratelimitModel, rl unkeyclient.Ratelimit) bool {
	d, err := time.ParseDuration(m.Duration.ValueString())
	return err == nil && m.Limit.ValueInt64() == rl.Limit && d.Milliseconds() == rl.DurationMs && m.AutoApply.ValueBool() == rl.AutoApply
}

func (r *identityResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan identityModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	meta, rls, diags := plan.desired(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	externalID := plan.ExternalID.ValueString()
	id, err := client.CreateIdentity(ctx, externalID, meta, rls)
	var dup *unkeyclient.DuplicateRiskError
	var apiErr *unkeyclient.APIError
	switch {
	case errors.As(err, &dup):
		resp.Diagnostics.AddWarning("Another identity may have been created", err.Error())
	case errors.As(err, &apiErr) && apiErr.Status == 409:
		id, diags = adoptIdentity(ctx, client, externalID, meta, rls)
		resp.Diagnostics.Append(diags...)
		if resp.Diagnostics.HasError() {
			return
		}
	case err != nil:
		resp.Diagnostics.AddError("Could not create the Unkey identity", err.Error())
		return
	}
	plan.ID = types.StringValue(id)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// adoptIdentity takes over the identity Unkey already has for an external
// ID (most often created by a migration's keys) and gives it the
// configured meta and rate limits.
func adoptIdentity(ctx context.Context, client *unkeyclient.Client, externalID string, meta map[string]any, rls []unkeyclient.Ratelimit) (string, diag.Diagnostics) {
	var diags diag.Diagnostics
	existing, err := client.GetIdentity(ctx, externalID)
	if err != nil {
		diags.AddError("Could not adopt the existing Unkey identity",
			fmt.Sprintf("Unkey already has an identity with external_id %q, but reading it failed: %v", externalID, err))
		return "", diags
	}
	if _, err := client.UpdateIdentity(ctx, existing.ID, meta, rls); err != nil {
		diags.AddError("Could not adopt the existing Unkey identity",
			fmt.Sprintf("Unkey already has the identity %s with external_id %q; setting its meta and ratelimits failed: %v", existing.ID, externalID, err))
		return "", diags
	}
	if len(existing.Meta) > 0 || len(existing.Ratelimits) > 0 {
		diags.AddWarning("Adopted an existing Unkey identity",
			fmt.Sprintf("Unkey already had the identity %s with external_id %q, with its own meta or rate limits; they have been replaced by this configuration's.", existing.ID, externalID))
	}
	return existing.ID, diags
}

func (r *identityResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state identityModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	got, err := client.GetIdentity(ctx, state.ID.ValueString())
	if unkeyclient.IsNotFound(err) {
		goneFromUnkey(ctx, resp, "identity", state.ID.ValueString())
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not read the Unkey identity", err.Error())
		return
	}
	resp.Diagnostics.Append(state.setFrom(ctx, got)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (m *identityModel) setFrom(ctx context.Context, got unkeyclient.Identity) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID, m.ExternalID = types.StringValue(got.ID), types.StringValue(got.ExternalID)
	meta, err := metaValue(got.Meta, m.Meta)
	if err != nil {
		diags.AddAttributeError(path.Root("meta"), "Unreadable meta from Unkey", err.Error())
	}
	m.Meta = meta
	rls, d := ratelimitSetOf(ctx, got.Ratelimits, m.Ratelimits)
	diags.Append(d...)
	m.Ratelimits = rls
	return diags
}

func (r *identityResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state identityModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	meta, rls, diags := plan.desired(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if _, err := client.UpdateIdentity(ctx, state.ID.ValueString(), meta, rls); err != nil {
		resp.Diagnostics.AddError("Could not update the Unkey identity", err.Error())
		return
	}
	plan.ID = state.ID
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *identityResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state identityModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := clientFrom(r.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := client.DeleteIdentity(ctx, state.ID.ValueString())
	if unkeyclient.IsNotFound(err) {
		goneAtDelete(resp, "identity", state.ID.ValueString())
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not delete the Unkey identity", err.Error())
	}
}

// ImportState takes an identity ID or an external ID; Read records the ID.
func (r *identityResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
