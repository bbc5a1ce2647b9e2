package unkeyclient

import (
	"context"

	"github.com/unkeyed/sdks/api/go/v2/models/components"
)

// Identity is an Unkey identity: the owner (external ID) of keys, with
// metadata and rate limits its keys share.
type Identity struct {
	ID, ExternalID string
	Meta           map[string]any // nil or empty = none
	Ratelimits     []Ratelimit
}

func identityFrom(d components.Identity) Identity {
	out := Identity{ID: d.ID, ExternalID: d.ExternalID, Meta: d.Meta}
	for _, rl := range d.Ratelimits {
		out.Ratelimits = append(out.Ratelimits, Ratelimit{Name: rl.Name, Limit: rl.Limit, DurationMs: rl.Duration, AutoApply: rl.AutoApply})
	}
	return out
}

// CreateIdentity creates an identity and returns its ID.
func (c *Client) CreateIdentity(ctx context.Context, externalID string, meta map[string]any, ratelimits []Ratelimit) (string, error) {
	var id string
	outcome, err := c.call(ctx, "identities.createIdentity", func(ctx context.Context) error {
		resp, err := c.sdk.Identities.CreateIdentity(ctx, components.V2IdentitiesCreateIdentityRequestBody{
			ExternalID: externalID, Meta: meta, Ratelimits: ratelimitsToSDK(ratelimits),
		})
		if err != nil {
			return err
		}
		if resp.V2IdentitiesCreateIdentityResponseBody == nil {
			return errNoBody
		}
		id = resp.V2IdentitiesCreateIdentityResponseBody.Data.IdentityID
		return nil
	})
	if err == nil && outcome.earlierAttemptMayHaveTakenEffect {
		return id, &DuplicateRiskError{Operation: "identities.createIdentity", Created: id}
	}
	return id, err
}

// GetIdentity reads an identity by external ID or identity ID.
func (c *Client) GetIdentity(ctx context.Context, ref string) (Identity, error) {
	var out Identity
	_, err := c.call(ctx, "identities.getIdentity", func(ctx context.Context) error {
		resp, err := c.sdk.Identities.GetIdentity(ctx, components.V2IdentitiesGetIdentityRequestBody{Identity: ref})
		if err != nil {
			return err
		}
		if resp.V2IdentitiesGetIdentityResponseBody == nil {
			return errNoBody
		}
		out = identityFrom(resp.V2IdentitiesGetIdentityResponseBody.Data)
		return nil
	})
	return out, err
}

// UpdateIdentity replaces an identity's metadata and rate limits: nil meta
// or ratelimits clear them. It is idempotent.
func (c *Client) UpdateIdentity(ctx context.Context, ref string, meta map[string]any, ratelimits []Ratelimit) (Identity, error) {
	if meta == nil {
		meta = map[string]any{} // {} clears; an omitted field would be kept
	}
	rls := ratelimitsToSDK(ratelimits)
	if rls == nil {
		rls = []components.RatelimitRequest{}
	}
	var out Identity
	_, err := c.call(ctx, "identities.updateIdentity", func(ctx context.Context) error {
		resp, err := c.sdk.Identities.UpdateIdentity(ctx, components.V2IdentitiesUpdateIdentityRequestBody{
			Identity: ref, Meta: meta, Ratelimits: rls,
		})
		if err != nil {
			return err
		}
		if resp.V2IdentitiesUpdateIdentityResponseBody == nil {
			return errNoBody
		}
		out = identityFrom(resp.V2IdentitiesUpdateIdentityResponseBody.Data)
		return nil
	})
	return out, err
}

// DeleteIdentity deletes an identity; its keys stay, without an owner. Its
// 404 is returned as DeleteKey's is.
func (c *Client) DeleteIdentity(ctx context.Context, ref string) error {
	out, err := c.call(ctx, "identities.deleteIdentity", func(ctx context.Context) error {
		_, err := c.sdk.Identities.DeleteIdentity(ctx, components.V2IdentitiesDeleteIdentityRequestBody{Identity: ref})
		return err
	})
	return deletedByAnEarlierAttempt(out, err)
}
