package provider

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

var _ datasource.DataSourceWithConfigure = (*keyDataSource)(nil)

// NewKeyDataSource is the unkey_key data source.
func NewKeyDataSource() datasource.DataSource { return &keyDataSource{} }

type keyDataSource struct {
	data *providerData
}

type keyDataModel struct {
	KeyID       types.String         `tfsdk:"key_id"`
	Name        types.String         `tfsdk:"name"`
	ExternalID  types.String         `tfsdk:"external_id"`
	Meta        jsontypes.Normalized `tfsdk:"meta"`
	Enabled     types.Bool           `tfsdk:"enabled"`
	Expires     timetypes.RFC3339    `tfsdk:"expires"`
	CreatedAt   timetypes.RFC3339    `tfsdk:"created_at"`
	Roles       []string             `tfsdk:"roles"`
	Permissions []string             `tfsdk:"permissions"`
	Credits     *creditsModel        `tfsdk:"credits"`
	Ratelimits  []ratelimitModel     `tfsdk:"ratelimits"`
}

func (d *keyDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_key"
}

func (d *keyDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Reads a key by its ID, for example one that `unkey_key_migration` recorded in `key_ids`.",
		Attributes: map[string]schema.Attribute{
			"key_id": schema.StringAttribute{
				Description: "The key's ID, such as `key_1234`.",
				Required:    true,
				Validators:  []validator.String{stringvalidator.LengthBetween(3, 255)},
			},
			"name":        schema.StringAttribute{Description: "The key's name.", Computed: true},
			"external_id": schema.StringAttribute{Description: "The external ID of the identity the key belongs to.", Computed: true},
			"meta":        schema.StringAttribute{Description: "The key's metadata as a JSON object.", Computed: true, CustomType: jsontypes.NormalizedType{}},
			"enabled":     schema.BoolAttribute{Description: "Whether the key can be verified.", Computed: true},
			"expires":     schema.StringAttribute{Description: "When the key expires (RFC 3339), if ever.", Computed: true, CustomType: timetypes.RFC3339Type{}},
			"created_at":  schema.StringAttribute{Description: "When the key was created in Unkey (RFC 3339).", Computed: true, CustomType: timetypes.RFC3339Type{}},
			"roles":       schema.SetAttribute{Description: "The key's roles.", Computed: true, ElementType: types.StringType},
			"permissions": schema.SetAttribute{Description: "The key's permissions, direct and from roles.", Computed: true, ElementType: types.StringType},
			"credits": schema.SingleNestedAttribute{
				Description: "The key's usage credits; null when unlimited.",
				Computed:    true,
				Attributes: map[string]schema.Attribute{
					"remaining": schema.Int64Attribute{Description: "Credits left.", Computed: true},
					"refill": schema.SingleNestedAttribute{
						Description: "How the credits refill, if they do.",
						Computed:    true,
						Attributes: map[string]schema.Attribute{
							"interval":   schema.StringAttribute{Description: "`daily` or `monthly`.", Computed: true},
							"amount":     schema.Int64Attribute{Description: "Credits each refill sets.", Computed: true},
							"refill_day": schema.Int64Attribute{Description: "Day of the month of a monthly refill.", Computed: true},
						},
					},
				},
			},
			"ratelimits": schema.ListNestedAttribute{
				Description: "The key's rate limits, ordered by name.",
				Computed:    true,
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"name":       schema.StringAttribute{Description: "The rate limit's name.", Computed: true},
						"limit":      schema.Int64Attribute{Description: "Requests allowed per window.", Computed: true},
						"duration":   schema.StringAttribute{Description: "The window, as a Go duration.", Computed: true},
						"auto_apply": schema.BoolAttribute{Description: "Whether verifications use it without naming it.", Computed: true},
					},
				},
			},
		},
	}
	resp.Schema.Description += permissionsSection("data.unkey_key")
}

func (d *keyDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	d.data = data
}

func (d *keyDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m keyDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	client, diags := clientFrom(d.data)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	info, err := client.GetKey(ctx, m.KeyID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Could not read the Unkey key", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, keyDataFrom(m.KeyID, info))...)
}

func keyDataFrom(id types.String, info unkeyclient.KeyInfo) *keyDataModel {
	m := &keyDataModel{
		KeyID:       id,
		Name:        types.StringPointerValue(info.Name),
		ExternalID:  types.StringPointerValue(info.ExternalID),
		Meta:        jsontypes.NewNormalizedNull(),
		Enabled:     types.BoolValue(info.Enabled),
		Expires:     timetypes.NewRFC3339Null(),
		CreatedAt:   timetypes.NewRFC3339TimeValue(time.UnixMilli(info.CreatedAtMs).UTC()),
		Roles:       sortedStrings(info.Roles),
		Permissions: sortedStrings(info.Permissions),
	}
	if info.Meta != nil {
		if raw, err := json.Marshal(info.Meta); err == nil {
			m.Meta = jsontypes.NewNormalizedValue(string(raw))
		}
	}
	if info.ExpiresMs != nil {
		m.Expires = timetypes.NewRFC3339TimeValue(time.UnixMilli(*info.ExpiresMs).UTC())
	}
	if c := info.Credits; c != nil {
		m.Credits = &creditsModel{Remaining: types.Int64Value(c.Remaining)}
		if r := c.Refill; r != nil {
			m.Credits.Refill = &refillModel{Interval: types.StringValue(r.Interval), Amount: types.Int64Value(r.Amount), RefillDay: types.Int64PointerValue(r.RefillDay)}
		}
	}
	// Unkey answers in no promised order: by name, the same value every read.
	rls := slices.SortedFunc(slices.Values(info.Ratelimits), func(a, b unkeyclient.Ratelimit) int { return strings.Compare(a.Name, b.Name) })
	for _, rl := range rls {
		m.Ratelimits = append(m.Ratelimits, ratelimitModel{
			Name: types.StringValue(rl.Name), Limit: types.Int64Value(rl.Limit),
			Duration: types.StringValue((time.Duration(rl.DurationMs) * time.Millisecond).String()), AutoApply: types.BoolValue(rl.AutoApply),
		})
	}
	return m
}

// sortedStrings is a sorted copy of s, never nil.
func sortedStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Sorted(slices.Values(s))
}
