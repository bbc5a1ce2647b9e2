package unkeyclient

import (
	"context"

	"github.com/unkeyed/sdks/api/go/v2/models/components"
)

// CreateAPI creates an API and returns its ID. It is not retried after an
// attempt that may have taken effect, which would create a second API.
func (c *Client) CreateAPI(ctx context.Context, name string) (string, error) {
	var id string
	outcome, err := c.call(ctx, "apis.createApi", func(ctx context.Context) error {
		resp, err := c.sdk.Apis.CreateAPI(ctx, components.V2ApisCreateAPIRequestBody{Name: name})
		if err != nil {
			return err
		}
		if resp.V2ApisCreateAPIResponseBody == nil {
			return errNoBody
		}
		id = resp.V2ApisCreateAPIResponseBody.Data.APIID
		return nil
	})
	if err == nil && outcome.earlierAttemptMayHaveTakenEffect {
		return id, &DuplicateRiskError{Operation: "apis.createApi", Created: id}
	}
	return id, err
}

// DuplicateRiskError says a create succeeded only after an attempt whose
// answer was lost, so a second object may exist.
type DuplicateRiskError struct {
	Operation string
	Created   string
}

func (e *DuplicateRiskError) Error() string {
	return e.Operation + ": created " + e.Created + " after an earlier attempt lost its answer; that attempt may have created another one, which Terraform does not manage: check the Unkey dashboard"
}

// DeleteAPI deletes an API. A 404 answering a retry whose earlier attempt
// may have deleted the API is success; any other 404 is returned: Unkey
// answers it for an API of another workspace too, so it does not prove the
// API gone.
func (c *Client) DeleteAPI(ctx context.Context, apiID string) error {
	out, err := c.call(ctx, "apis.deleteApi", func(ctx context.Context) error {
		_, err := c.sdk.Apis.DeleteAPI(ctx, components.V2ApisDeleteAPIRequestBody{APIID: apiID})
		return err
	})
	return deletedByAnEarlierAttempt(out, err)
}

// KeyInfo is a key as Unkey describes it.
type KeyInfo struct {
	ID          string
	Name        *string
	ExternalID  *string
	Meta        map[string]any
	Enabled     bool
	ExpiresMs   *int64
	CreatedAtMs int64
	Credits     *Credits
	Roles       []string
	Permissions []string
	Ratelimits  []Ratelimit
}

// GetKey reads a key by ID.
func (c *Client) GetKey(ctx context.Context, keyID string) (KeyInfo, error) {
	var info KeyInfo
	_, err := c.call(ctx, "keys.getKey", func(ctx context.Context) error {
		resp, err := c.sdk.Keys.GetKey(ctx, components.V2KeysGetKeyRequestBody{KeyID: keyID})
		if err != nil {
			return err
		}
		if resp.V2KeysGetKeyResponseBody == nil {
			return errNoBody
		}
		info = keyInfoFrom(resp.V2KeysGetKeyResponseBody.Data)
		return nil
	})
	return info, err
}

func keyInfoFrom(d components.KeyResponseData) KeyInfo {
	info := KeyInfo{
		ID: d.KeyID, Name: d.Name, Meta: d.Meta, Enabled: d.Enabled, ExpiresMs: d.Expires, CreatedAtMs: d.CreatedAt,
		Roles: d.Roles, Permissions: d.Permissions,
	}
	if d.Identity != nil && d.Identity.ExternalID != "" {
		ext := d.Identity.ExternalID
		info.ExternalID = &ext
	}
	if d.Credits != nil && d.Credits.Remaining != nil {
		info.Credits = &Credits{Remaining: *d.Credits.Remaining}
		if r := d.Credits.Refill; r != nil {
			info.Credits.Refill = &Refill{Interval: string(r.Interval), Amount: r.Amount, RefillDay: r.RefillDay}
		}
	}
	for _, rl := range d.Ratelimits {
		info.Ratelimits = append(info.Ratelimits, Ratelimit{Name: rl.Name, Limit: rl.Limit, DurationMs: rl.Duration, AutoApply: rl.AutoApply})
	}
	return info
}
