package unkeyclient

import (
	"context"

	"github.com/unkeyed/sdks/api/go/v2/models/components"
)

// Field names one setting of a key that keys.updateKey can change.
type Field string

// The settings keys.updateKey can change, by their JSON names.
const (
	FieldName       Field = "name"
	FieldExternalID Field = "externalId"
	FieldMeta       Field = "meta"
	FieldExpires    Field = "expires"
	FieldEnabled    Field = "enabled"
	FieldCredits    Field = "credits"
	FieldRatelimits Field = "ratelimits"
)

// UpdateKey sets the given fields of an existing key to their values in
// desired; a field whose desired value is absent is cleared.
func (c *Client) UpdateKey(ctx context.Context, keyID string, desired Key, fields []Field) error {
	if len(fields) == 0 {
		return nil
	}
	body := components.V2KeysUpdateKeyRequestBody{KeyID: keyID}
	var nulls []string
	for _, f := range fields {
		absent := false
		switch f {
		case FieldName:
			body.Name, absent = desired.Name, desired.Name == nil
		case FieldExternalID:
			body.ExternalID, absent = desired.ExternalID, desired.ExternalID == nil
		case FieldMeta:
			body.Meta, absent = desired.Meta, desired.Meta == nil
		case FieldExpires:
			body.Expires, absent = desired.ExpiresMs, desired.ExpiresMs == nil
		case FieldEnabled:
			enabled := desired.Enabled
			body.Enabled = &enabled
		case FieldCredits:
			body.Credits, absent = desired.Credits.toUpdateSDK(), desired.Credits == nil
		case FieldRatelimits:
			// Unkey refuses null here; an empty list removes every limit.
			body.Ratelimits = ratelimitsToSDK(desired.Ratelimits)
			if body.Ratelimits == nil {
				body.Ratelimits = []components.RatelimitRequest{}
			}
		}
		if absent {
			nulls = append(nulls, string(f))
		}
	}
	_, err := c.call(withNullFields(ctx, nulls), "keys.updateKey", func(ctx context.Context) error {
		_, err := c.sdk.Keys.UpdateKey(ctx, body)
		return err
	})
	return err
}

func (c *Credits) toUpdateSDK() *components.UpdateKeyCreditsData {
	if c == nil {
		return nil
	}
	remaining := c.Remaining
	out := &components.UpdateKeyCreditsData{Remaining: &remaining}
	if c.Refill != nil {
		out.Refill = &components.UpdateKeyCreditsRefill{
			Interval:  components.UpdateKeyCreditsRefillInterval(c.Refill.Interval),
			Amount:    c.Refill.Amount,
			RefillDay: c.Refill.RefillDay,
		}
	}
	return out
}

// SetRoles replaces a key's roles.
func (c *Client) SetRoles(ctx context.Context, keyID string, roles []string) error {
	_, err := c.call(ctx, "keys.setRoles", func(ctx context.Context) error {
		_, err := c.sdk.Keys.SetRoles(ctx, components.V2KeysSetRolesRequestBody{KeyID: keyID, Roles: nonNil(roles)})
		return err
	})
	return err
}

// SetPermissions replaces a key's direct permissions.
func (c *Client) SetPermissions(ctx context.Context, keyID string, permissions []string) error {
	_, err := c.call(ctx, "keys.setPermissions", func(ctx context.Context) error {
		_, err := c.sdk.Keys.SetPermissions(ctx, components.V2KeysSetPermissionsRequestBody{KeyID: keyID, Permissions: nonNil(permissions)})
		return err
	})
	return err
}

// DeleteKey deletes a key for good, which also frees its hash so that it can
// be migrated again; a soft-deleted key would block its hash forever.
// A 404 is returned unless it answers a retry whose earlier attempt may have
// deleted the key: only the caller can tell a deleted key from one of another
// workspace (by seeing the key's API).
func (c *Client) DeleteKey(ctx context.Context, keyID string) error {
	permanent := true
	out, err := c.call(ctx, "keys.deleteKey", func(ctx context.Context) error {
		_, err := c.sdk.Keys.DeleteKey(ctx, components.V2KeysDeleteKeyRequestBody{KeyID: keyID, Permanent: &permanent})
		return err
	})
	return deletedByAnEarlierAttempt(out, err)
}

// deletedByAnEarlierAttempt takes a 404 for success when an earlier attempt
// of the same delete may have taken effect (its answer was lost).
func deletedByAnEarlierAttempt(out callOutcome, err error) error {
	if IsNotFound(err) && out.earlierAttemptMayHaveTakenEffect {
		return nil
	}
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// API is an Unkey API: a namespace for keys.
type API struct {
	ID   string
	Name string
}

// GetAPI reads an API.
func (c *Client) GetAPI(ctx context.Context, apiID string) (API, error) {
	var api API
	_, err := c.call(ctx, "apis.getApi", func(ctx context.Context) error {
		resp, err := c.sdk.Apis.GetAPI(ctx, components.V2ApisGetAPIRequestBody{APIID: apiID})
		if err != nil {
			return err
		}
		if resp.V2ApisGetAPIResponseBody == nil {
			return errNoBody
		}
		api = API{ID: resp.V2ApisGetAPIResponseBody.Data.ID, Name: resp.V2ApisGetAPIResponseBody.Data.Name}
		return nil
	})
	c.apiChecks.seen(apiID, err)
	return api, err
}
