package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

// changeCallsUnkey reports whether applying the changes sends anything to
// Unkey; forgetting hashes under deletion_policy = "abandon" does not.
func changeCallsUnkey(plan keyMigrationModel, changes keyMigrationChanges) bool {
	return len(changes.send)+len(changes.update) > 0 ||
		(len(changes.remove) > 0 && plan.DeletionPolicy.ValueString() == deletionPolicyDelete)
}

// checkRootKeyAndAPI finds a wrong root key or api_id at plan time instead of
// part-way through an apply: unkey_key_migration calls it for a plan that
// creates or changes a migration. It asks apis.getApi at most once per API
// and provider process (a refresh that already read the API answers it), so
// plans of unchanged resources cost nothing. explainNotFound, when not nil,
// words a 404 for a migration already in state (its key IDs are kept).
func checkRootKeyAndAPI(ctx context.Context, data *providerData, apiID types.String, explainNotFound func(error) (summary, detail string)) diag.Diagnostics {
	var diags diag.Diagnostics
	if data == nil || data.client == nil || apiID.IsUnknown() || apiID.IsNull() {
		return diags // known at apply time, which makes the same calls
	}
	err := data.client.CheckAPI(ctx, apiID.ValueString())
	var apiErr *unkeyclient.APIError
	fromUnkey := errors.As(err, &apiErr)
	switch {
	case err == nil:
	case unkeyclient.IsForbidden(err):
		// A migration-only root key may lack read_api: the apply will tell.
		tflog.Info(ctx, "The root key may not read the API (no read_api permission); its existence is checked at apply", map[string]any{"api_id": apiID.ValueString()})
	case fromUnkey && apiErr.Status == http.StatusUnauthorized:
		diags.AddError("Unkey does not know the root key",
			fmt.Sprintf("Checking at plan time that the API %s exists, Unkey refused the root key from %s: it is mistyped, revoked, or not a root key. "+
				"Nothing has been sent. Set the right root key there (or in root_key, UNKEY_ROOT_KEY or the Unkey CLI config file, in that order of precedence).\n\n%s",
				apiID.ValueString(), data.rootKeySource, err))
	case fromUnkey && apiErr.IsAPINotFound() && explainNotFound != nil:
		summary, detail := explainNotFound(err)
		diags.AddAttributeError(path.Root("api_id"), summary, detail)
	case fromUnkey && apiErr.IsAPINotFound():
		diags.AddAttributeError(path.Root("api_id"), "API not found with this root key",
			fmt.Sprintf("Unkey does not know the API %s with the root key from %s. Unkey answers the same in two cases: the API was deleted, "+
				"or the root key belongs to another Unkey workspace than the API. Check api_id, and that the root key is one of the API's workspace. "+
				"Nothing has been sent.\n\n%s", apiID.ValueString(), data.rootKeySource, err))
	default:
		diags.AddError("Could not check the Unkey API at plan time",
			fmt.Sprintf("Checking that the API %s exists before planning to change its keys failed; nothing has been sent.\n\n%s", apiID.ValueString(), err))
	}
	return diags
}
