// Package provider implements the Unkey Terraform provider.
package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

var _ provider.ProviderWithFunctions = (*unkeyProvider)(nil)

// New returns a constructor of the provider at the given version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &unkeyProvider{version: version} }
}

type unkeyProvider struct {
	version string
}

type providerModel struct {
	RootKey        types.String `tfsdk:"root_key"`
	APIURL         types.String `tfsdk:"api_url"`
	RequestTimeout types.String `tfsdk:"request_timeout"`
	RetryTimeout   types.String `tfsdk:"retry_timeout"`
	Parallel       types.Int64  `tfsdk:"parallel_requests"`
}

// providerData is what resources and data sources receive. client is nil
// while the provider configuration is not known yet (it depends on other
// resources); plans do not need it, and applies always have it.
type providerData struct {
	client   *unkeyclient.Client
	apiURL   string
	parallel int
	// rootKeySource says where the root key came from, for errors.
	rootKeySource string
}

func (p *unkeyProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "unkey"
	resp.Version = p.version
}

func (p *unkeyProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Manages Unkey (https://unkey.com): migrate existing API keys into Unkey without rotating them.",
		Attributes: map[string]schema.Attribute{
			"root_key": schema.StringAttribute{
				Description: "An Unkey root key. When unset, the provider reads `UNKEY_ROOT_KEY`, then `root_key` in the Unkey CLI's config file " +
					"(`~/.unkey/config.toml`, or the file named by `UNKEY_CONFIG`). Prefer the environment over writing the key in configuration. " +
					"The permissions it needs for each operation are listed under Root key permissions; a plan that creates or changes a migration checks that Unkey knows it.",
				Optional:  true,
				Sensitive: true,
			},
			"api_url": schema.StringAttribute{
				Description: "The Unkey API's base URL. When unset, the provider reads `UNKEY_API_URL`, then `UNKEY_API_BASE_URL`, " +
					"then uses `" + unkeyclient.DefaultBaseURL + "`. Must be an absolute http(s) URL; plain http is accepted only for loopback hosts. " +
					"A host that does not resolve, a TLS certificate that is not valid and an answer that is not Unkey's fail at once, naming the URL and where it came from.",
				Optional: true,
			},
			"request_timeout": schema.StringAttribute{
				Description: "How long one HTTP request may take before it is abandoned and retried, as a Go duration (default `60s`). " +
					"A batch of 1,000 keys takes Unkey about a tenth of a second.",
				Optional:   true,
				Validators: []validator.String{durationAtLeast{min: time.Second}},
			},
			"retry_timeout": schema.StringAttribute{
				Description: "The most time one request keeps being retried after rate limiting (429, honouring `Retry-After`), server errors " +
					"and lost connections, as a Go duration (default `5m`). A wait that would pass it is not started: the apply stops " +
					"with everything migrated so far saved, and can be resumed. A server that has never answered is retried for at most 30s: " +
					"a refused connection then most likely means a wrong URL or port.",
				Optional:   true,
				Validators: []validator.String{durationAtLeast{min: 0}},
			},
			"parallel_requests": schema.Int64Attribute{
				Description: fmt.Sprintf("How many `keys.migrateKeys` requests may be in flight at once (1–%d, default %d). "+
					"Unkey's server works on about two requests at once; four in flight keep it busy while answers travel (measured on Unkey: 100,000 keys "+
					"in batches of 1,000 took 14.3 s one at a time and 8.6 s four at a time, the best). "+
					"Batches never share a hash, so their order does not matter; a 429 from Unkey's rate limiting makes each of them wait as told.",
					unkeyclient.MaxParallel, unkeyclient.DefaultParallel),
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(1, unkeyclient.MaxParallel)},
			},
		},
	}
}

func (p *unkeyProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	data := &providerData{}
	resp.ResourceData, resp.DataSourceData = data, data
	if cfg.RootKey.IsUnknown() || cfg.APIURL.IsUnknown() || cfg.RequestTimeout.IsUnknown() || cfg.RetryTimeout.IsUnknown() || cfg.Parallel.IsUnknown() {
		// Known at apply time; plans of this provider's resources make no
		// API calls, so there is nothing to do yet.
		return
	}

	apiURL := resolveAPIURL(cfg.APIURL)
	if err := unkeyclient.ValidateBaseURL(apiURL); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("api_url"), "Invalid Unkey API URL",
			fmt.Sprintf("The API URL (%s) is not usable: %s.", apiURLSource(cfg.APIURL), err))
		return
	}
	rootKey, rootKeySource, diags := resolveRootKey(cfg.RootKey)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	client, err := unkeyclient.New(unkeyclient.Config{
		BaseURL:        apiURL,
		BaseURLSource:  apiURLSource(cfg.APIURL),
		RootKey:        rootKey,
		RootKeySource:  rootKeySource,
		UserAgent:      fmt.Sprintf("terraform-provider-unkey/%s Terraform/%s", p.version, req.TerraformVersion),
		RequestTimeout: durationOr(cfg.RequestTimeout, unkeyclient.DefaultRequestTimeout),
		Retry:          unkeyclient.RetryPolicy{MaxElapsed: durationOr(cfg.RetryTimeout, unkeyclient.DefaultRetryMaxElapsed)},
	})
	if err != nil {
		resp.Diagnostics.AddError("Could not configure the Unkey client", err.Error())
		return
	}
	data.client, data.apiURL, data.rootKeySource = client, apiURL, rootKeySource
	tflog.Info(ctx, "Unkey provider configured", map[string]any{"api_url": apiURL, "api_url_source": apiURLSource(cfg.APIURL), "root_key_source": rootKeySource})
	data.parallel = unkeyclient.DefaultParallel
	if !cfg.Parallel.IsNull() && !cfg.Parallel.IsUnknown() {
		data.parallel = int(cfg.Parallel.ValueInt64())
	}
}

func resolveAPIURL(attr types.String) string {
	if v := attr.ValueString(); v != "" {
		return v
	}
	for _, env := range []string{"UNKEY_API_URL", "UNKEY_API_BASE_URL"} {
		if v := os.Getenv(env); v != "" {
			return v
		}
	}
	return unkeyclient.DefaultBaseURL
}

// apiURLSource says where resolveAPIURL found the URL, as errors quote it.
func apiURLSource(attr types.String) string {
	if attr.ValueString() != "" {
		return "from api_url"
	}
	for _, env := range []string{"UNKEY_API_URL", "UNKEY_API_BASE_URL"} {
		if os.Getenv(env) != "" {
			return "from " + env
		}
	}
	return "the default: none of api_url, UNKEY_API_URL and UNKEY_API_BASE_URL is set"
}

// resolveRootKey follows the order the unkey CLI uses: the attribute, the
// environment, then the CLI's config file. It also says which one it used.
func resolveRootKey(attr types.String) (key, source string, diags diag.Diagnostics) {
	if v := attr.ValueString(); v != "" {
		return v, "root_key", diags
	}
	if v := os.Getenv("UNKEY_ROOT_KEY"); v != "" {
		return v, "UNKEY_ROOT_KEY", diags
	}
	file := cliConfigPath()
	key, err := rootKeyFromCLIConfig(file)
	if err != nil {
		diags.AddAttributeError(path.Root("root_key"), "Could not read the Unkey CLI config file", err.Error())
		return "", "", diags
	}
	if key != "" {
		return key, "root_key in the Unkey CLI config file " + file, diags
	}
	diags.AddAttributeError(path.Root("root_key"), "No Unkey root key",
		fmt.Sprintf("The provider needs an Unkey root key. Give it one of these ways: the provider's root_key attribute, "+
			"the UNKEY_ROOT_KEY environment variable, or root_key in the Unkey CLI config file (%s; set UNKEY_CONFIG to use another file).", file))
	return "", "", diags
}

func cliConfigPath() string {
	if v := os.Getenv("UNKEY_CONFIG"); v != "" {
		return v
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join("~", ".unkey", "config.toml")
	}
	return filepath.Join(home, ".unkey", "config.toml")
}

// rootKeyFromCLIConfig returns root_key from the file, or "" when the file
// does not exist or does not set it.
func rootKeyFromCLIConfig(file string) (string, error) {
	var cfg struct {
		RootKey string `toml:"root_key"`
	}
	_, err := toml.DecodeFile(file, &cfg)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		// The decoder's message can quote the file's contents; name the line only.
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return "", fmt.Errorf("%s is not valid TOML (line %d)", file, perr.Position.Line)
		}
		return "", fmt.Errorf("reading %s: %w", file, err)
	}
	return cfg.RootKey, nil
}

func (p *unkeyProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{NewKeyMigrationResource, NewAPIResource,
		NewPermissionResource, NewRoleResource, NewIdentityResource, NewKeyResource}
}

func (p *unkeyProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewAPIDataSource, NewKeyDataSource,
		NewPermissionDataSource, NewRoleDataSource, NewIdentityDataSource}
}

func (p *unkeyProvider) Functions(context.Context) []func() function.Function {
	return []func() function.Function{NewSHA256HexToBase64Function}
}

// clientFrom returns the configured client, or an error diagnostic when the
// provider configuration was still unknown.
func clientFrom(data *providerData) (*unkeyclient.Client, diag.Diagnostics) {
	var diags diag.Diagnostics
	if data == nil || data.client == nil {
		diags.AddError("Unkey provider not configured",
			"The provider's root_key or api_url was not known when this operation ran. Apply the resources they depend on first, or set them directly.")
		return nil, diags
	}
	return data.client, diags
}

// providerDataFrom unpacks the provider's data in a Configure method.
func providerDataFrom(v any) (*providerData, diag.Diagnostics) {
	var diags diag.Diagnostics
	if v == nil {
		return nil, diags
	}
	data, ok := v.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider.", v))
	}
	return data, diags
}

// durationOr parses a validated duration attribute, or returns def when unset.
func durationOr(v types.String, def time.Duration) time.Duration {
	if v.IsNull() || v.IsUnknown() {
		return def
	}
	d, err := time.ParseDuration(v.ValueString())
	if err != nil {
		return def
	}
	if d == 0 {
		return -1 // explicitly zero: no retries at all
	}
	return d
}

// durationAtLeast accepts a Go duration of at least min.
type durationAtLeast struct{ min time.Duration }

func (v durationAtLeast) Description(context.Context) string {
	return fmt.Sprintf("must be a Go duration such as \"30s\" or \"5m\", at least %s", v.min)
}
func (v durationAtLeast) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v durationAtLeast) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d < v.min {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%s: got %q; %s.", req.Path, req.ConfigValue.ValueString(), v.Description(context.Background())))
	}
}
