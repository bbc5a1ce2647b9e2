package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Limits below are Unkey's own, from its OpenAPI document.
const (
	hashFormatSHA256Base64 = "sha256_base64"
	hashFormatSHA256Hex    = "sha256_hex"

	deletionPolicyAbandon = "abandon"
	deletionPolicyDelete  = "delete"

	defaultBatchSize = 500
	maxBatchSize     = 1000
)

var permissionPattern = regexp.MustCompile(`^[a-zA-Z0-9_:\-\.\*]+$`)

func (r *keyMigrationResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Migrates existing, pre-hashed API keys into an Unkey API through `keys.migrateKeys`, so that no customer has to rotate a key, " +
			"and records the key ID Unkey gives every hash. Adding hashes later migrates only the new ones; changing a migrated key's settings " +
			"updates that key alone. Import is not possible: Unkey cannot tell which key ID belongs to a hash. A 404 from Unkey never removes the resource " +
			"or a key ID from state: Unkey answers an API of another workspace exactly like a deleted one, so the provider warns, refuses to apply, " +
			"and leaves letting go to `terraform state rm` or a `removed` block.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "An identifier of this migration in Terraform: `<migration_id>/<api_id>`.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"migration_id": schema.StringAttribute{
				Description:   "The migration ID Unkey support created for your workspace. It selects the hash algorithm Unkey verifies the keys with. Changing it replaces the resource.",
				Required:      true,
				Validators:    []validator.String{stringvalidator.LengthBetween(3, 255)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"api_id": schema.StringAttribute{
				Description:   "The ID of the Unkey API the keys are migrated into. Changing it replaces the resource.",
				Required:      true,
				Validators:    []validator.String{stringvalidator.LengthBetween(3, 255)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"hash_format": schema.StringAttribute{
				Description: "Checks every hash at plan time: `sha256_base64` (the standard base64 SHA-256 of the whole key, what `sha256` migrations verify) " +
					"or `sha256_hex` (64 hex characters, e.g. for the seamapi prefixed-api-key algorithm). Unset: any hash of at least 3 characters.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(hashFormatSHA256Base64, hashFormatSHA256Hex)},
			},
			"batch_size": schema.Int64Attribute{
				Description: "How many keys one `keys.migrateKeys` request carries (1–1000, default 500). Batches are also split so that no request body passes 5 MiB. " +
					"Unkey's server spends about 4 ms per request plus 0.14 ms per key and serves about two requests at once, so 100,000 keys take about 9 s " +
					"in batches of 100, 7.4 s in batches of 500 and 7.2 s in batches of 1,000 (with `parallel_requests` 4). 500 is within 3% of the fastest " +
					"while a request whose answer is lost leaves at most 500 hashes unconfirmed instead of 1,000.",
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(defaultBatchSize),
				Validators: []validator.Int64{int64validator.Between(1, maxBatchSize)},
			},
			"deletion_policy": schema.StringAttribute{
				Description: "What happens in Unkey to the keys of hashes removed from `keys`, and to all keys when the resource is destroyed: " +
					"`abandon` (default) leaves them in Unkey and only forgets them; `delete` deletes them permanently (`keys.deleteKey` with `permanent`), " +
					"which also frees their hashes so that they can be migrated again. Under `delete`, keys are deleted only once the root key is shown to " +
					"see the API (`api_id`), since Unkey answers a key of another workspace like one already deleted.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(deletionPolicyAbandon),
				Validators: []validator.String{stringvalidator.OneOf(deletionPolicyAbandon, deletionPolicyDelete)},
			},
			"keys": withFixedTypes(keysAttribute()),
			"keys_json": schema.StringAttribute{
				Description: "The keys to migrate as one JSON array in Unkey's own `keys.migrateKeys` format, as exported or as the `unkey` CLI's `--keys-json` takes it: " +
					"objects with `hash` (required), `name`, `externalId`, `meta` (an object), `roles`, `permissions`, `expires` (Unix milliseconds), `enabled`, " +
					"`credits` (`remaining`, `refill` with `interval`, `amount`, `refillDay`) and `ratelimits` (`name`, `limit`, `duration` in milliseconds, `autoApply`). " +
					"Typically `file(\"${path.module}/keys.json\")`; for more than a few thousand keys `keys_file` takes the same file without passing it through Terraform. " +
					"Checked at plan time like `keys`; changes are applied by hash like `keys`. " +
					"Marked sensitive only to keep it out of plan output: Terraform diffs JSON arrays with an algorithm quadratic in their length " +
					"(minutes and gigabytes from a few thousand keys), so plans show `change_summary` instead.",
				Optional:  true,
				Sensitive: true,
			},
			"keys_file": schema.StringAttribute{
				Description: "The keys to migrate as a path to a JSON file in the same format as `keys_json`, typically `\"${path.module}/keys.json\"`, with `keys_file_sha256`. " +
					"The provider reads the file itself, so the keys never pass through Terraform's plan or state: the input for exports of thousands of keys " +
					"(measured on 2 CPU cores against Unkey's server time, 100,000 keys: apply 10.6 s where a raw client takes 8.3 s, a plan that changes nothing 2.0 s, " +
					"against 18 s and 10 s through `keys_json`). " +
					"The file is read and checked at plan time only when `keys_file_sha256` changes (or the last apply did not finish); " +
					"the state keeps the key IDs and a short digest of each key's settings, so later applies send only added hashes and update only changed keys.",
				Optional: true,
				Validators: []validator.String{
					stringvalidator.LengthAtLeast(1),
					stringvalidator.AlsoRequires(path.MatchRoot("keys_file_sha256")),
				},
			},
			"keys_file_sha256": schema.StringAttribute{
				Description: "The SHA-256 of `keys_file`, in hex: `filesha256(\"${path.module}/keys.json\")`. Required with `keys_file`: Terraform sees a change of the file " +
					"through it, and the apply refuses a file whose hash is not the one planned (the file changed between plan and apply).",
				Optional: true,
				Validators: []validator.String{
					stringvalidator.RegexMatches(regexp.MustCompile(`^[0-9a-f]{64}$`), "must be the hex SHA-256 of keys_file, as filesha256(\"keys.json\") gives it"),
					stringvalidator.AlsoRequires(path.MatchRoot("keys_file")),
				},
			},
			"change_summary": schema.StringAttribute{
				Description: "What the plan does to keys, counted by hash: `N to migrate, N to update, N to remove`. It changes only when keys do, so a plan " +
					"shows it whenever keys change; after apply it describes the latest apply that changed keys.",
				Computed: true,
			},
			"key_ids": schema.MapAttribute{
				Description: "With `keys`: the key ID Unkey gave each migrated hash. Unkey cannot look a key up by hash, so this is the only record of them. " +
					"With `keys_json` or `keys_file` the same record is in `key_ids_json`.",
				Computed:    true,
				ElementType: types.StringType,
			},
			"key_ids_json": schema.StringAttribute{
				Description: "With `keys_json` or `keys_file`: the key ID Unkey gave each migrated hash, as one JSON object (hash => key ID); read it with `jsondecode`. " +
					"`key_ids` stays null then, because a map of 100,000 strings costs Terraform and the provider framework tens of seconds on every plan. " +
					"Sensitive for the same reason as `keys_json`: not secret, but too large to render in a plan.",
				Computed:  true,
				Sensitive: true,
			},
			"failed_hashes": schema.SetAttribute{
				Description: "Hashes Unkey did not migrate because a key with that hash already exists in Unkey (from another migration or created there).",
				Computed:    true,
				ElementType: types.StringType,
			},
			"unconfirmed_hashes": schema.SetAttribute{
				Description: "Hashes whose first request lost its answer (dropped connection or gateway error) and that Unkey then reported as already existing: " +
					"that lost request most likely migrated them, but Unkey never returned their key IDs. They are never sent again; see the guide for how to reconcile them.",
				Computed:    true,
				ElementType: types.StringType,
			},
		},
	}
	resp.Schema.Description += permissionsSection("unkey_key_migration")
}

// keysAttribute is the typed keys map, before withFixedTypes.
func keysAttribute() schema.MapNestedAttribute {
	return schema.MapNestedAttribute{
		Description: "The keys to migrate, keyed by their hash. Keep this list stable: removing a hash forgets its key (see `deletion_policy`). " +
			"Exactly one of `keys`, `keys_json` and `keys_file` is required. Above 1,000 keys use `keys_file` (a plan warns): Terraform " +
			"handles a map of objects far more slowly than a file the provider reads itself, and more slowly per key the more keys there are " +
			"(measured on 2 CPU cores: 10,000 keys apply in 83 s, against about 12 s for 100,000 keys in `keys_file`).",
		Optional: true,
		Validators: []validator.Map{
			mapvalidator.SizeAtLeast(1),
			mapvalidator.KeysAre(stringvalidator.LengthAtLeast(3)),
		},
		NestedObject: schema.NestedAttributeObject{Attributes: keySettingsAttributes()},
	}
}

func keySettingsAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"name": schema.StringAttribute{
			Description: "A human-readable name for the key (1–255 characters).",
			Optional:    true,
			Validators:  []validator.String{stringvalidator.LengthBetween(1, 255)},
		},
		"external_id": schema.StringAttribute{
			Description: "The ID of the key's owner in your system (1–255 characters); Unkey links the key to an identity with this ID, creating it if needed.",
			Optional:    true,
			Validators:  []validator.String{stringvalidator.LengthBetween(1, 255)},
		},
		"meta": schema.StringAttribute{
			Description: "Metadata returned when the key is verified: a JSON object (use `jsonencode`) of at most 100 properties. Compared semantically, so formatting does not matter.",
			Optional:    true,
			CustomType:  jsontypes.NormalizedType{},
			Validators:  []validator.String{jsonObjectValidator{maxProperties: 100}},
		},
		"roles": schema.SetAttribute{
			Description: "Roles to give the key (at most 100, each 1–128 characters). The migration creates roles that do not exist yet; " +
				"changing the roles of an already-migrated key later needs roles that exist (Unkey's keys.setRoles does not create them).",
			Optional:    true,
			ElementType: types.StringType,
			Validators: []validator.Set{
				setvalidator.SizeAtMost(100),
				setvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 128)),
			},
		},
		"permissions": schema.SetAttribute{
			Description: "Permissions to give the key directly (at most 1000, each 1–128 characters of letters, digits and `_:-.*`). Unkey creates permissions that do not exist yet.",
			Optional:    true,
			ElementType: types.StringType,
			Validators: []validator.Set{
				setvalidator.SizeAtMost(1000),
				setvalidator.ValueStringsAre(
					stringvalidator.LengthBetween(1, 128),
					stringvalidator.RegexMatches(permissionPattern, "may contain only letters, digits and the characters _ : - . *"),
				),
			},
		},
		"expires": schema.StringAttribute{
			Description: "When the key stops working, as an RFC 3339 timestamp such as `2030-01-01T00:00:00Z` (before 2100-01-01). Sent to Unkey as Unix milliseconds.",
			Optional:    true,
			// A plain string rather than timetypes.RFC3339: the custom type's
			// error does not say which key it is about; this validator does.
			Validators: []validator.String{expiresValidator{}},
		},
		// Not Computed with a Default: per-key computed attributes make the
		// framework walk and log every key on every plan (minutes at 3,000
		// keys). Null is read as the default instead.
		"enabled": schema.BoolAttribute{
			Description: "Whether the key can be verified. Unset means `true`.",
			Optional:    true,
		},
		"credits": schema.SingleNestedAttribute{
			Description: "Usage credits: each verification uses one, and the key stops verifying at zero.",
			Optional:    true,
			Attributes: map[string]schema.Attribute{
				"remaining": schema.Int64Attribute{
					Description: "Credits left (0 or more).",
					Required:    true,
					Validators:  []validator.Int64{int64validator.AtLeast(0)},
				},
				"refill": schema.SingleNestedAttribute{
					Description: "Refills the credits on a schedule.",
					Optional:    true,
					Validators:  []validator.Object{refillDayValidator{}},
					Attributes: map[string]schema.Attribute{
						"interval": schema.StringAttribute{
							Description: "`daily` or `monthly`.",
							Required:    true,
							Validators:  []validator.String{stringvalidator.OneOf("daily", "monthly")},
						},
						"amount": schema.Int64Attribute{
							Description: "How many credits each refill sets (1 or more).",
							Required:    true,
							Validators:  []validator.Int64{int64validator.AtLeast(1)},
						},
						"refill_day": schema.Int64Attribute{
							Description: "Day of the month of a `monthly` refill (1–31; months without that day refill on their last day). Required for `monthly`, not allowed for `daily`.",
							Optional:    true,
							Validators:  []validator.Int64{int64validator.Between(1, 31)},
						},
					},
				},
			},
		},
		"ratelimits": schema.ListNestedAttribute{
			Description: "Rate limits of the key (at most 50, names unique).",
			Optional:    true,
			Validators:  []validator.List{listvalidator.SizeAtMost(50), uniqueRatelimitNamesValidator{}},
			NestedObject: schema.NestedAttributeObject{
				Attributes: ratelimitAttributes(schema.BoolAttribute{
					Description: "Whether verifications use this limit without naming it. Unset means `false`.",
					Optional:    true,
				}),
			},
		},
	}
}

// ratelimitAttributes are the attributes of one rate limit, in a key's list
// or an identity's set; they differ only in how auto_apply is unset.
func ratelimitAttributes(autoApply schema.BoolAttribute) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"name": schema.StringAttribute{
			Description: "The rate limit's name (3–128 characters), used to select it when verifying.",
			Required:    true,
			Validators:  []validator.String{stringvalidator.LengthBetween(3, 128)},
		},
		"limit": schema.Int64Attribute{
			Description: "Requests allowed per window (1 or more).",
			Required:    true,
			Validators:  []validator.Int64{int64validator.AtLeast(1)},
		},
		"duration": schema.StringAttribute{
			Description: "The window, as a Go duration such as `1s`, `1m` or `24h` (at least `1s`, whole milliseconds).",
			Required:    true,
			Validators:  []validator.String{ratelimitDurationValidator{}},
		},
		"auto_apply": autoApply,
	}
}
