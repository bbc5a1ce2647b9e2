package unkeyclient

import (
	"context"

	"github.com/unkeyed/sdks/api/go/v2/models/components"
)

// NewKey is what keys.createKey takes: a key's settings (Key without a
// hash) and how Unkey should make it.
type NewKey struct {
	APIID       string
	Prefix      string // "" = none
	ByteLength  int64  // 0 = Unkey's default (16)
	Recoverable bool
	Key
}

// CreatedKey is keys.createKey's answer. Key is the plaintext: Unkey hands it
// out this once.
type CreatedKey struct {
	ID, Key string
}

// CreateKey has Unkey make a key. A create that succeeds only after an
// attempt whose answer was lost is reported as a DuplicateRiskError: that
// attempt may have made a second key whose plaintext nobody has.
func (c *Client) CreateKey(ctx context.Context, k NewKey) (CreatedKey, error) {
	body := components.V2KeysCreateKeyRequestBody{
		APIID: k.APIID, Prefix: optional(k.Prefix), Name: k.Name, ExternalID: k.ExternalID, Meta: k.Meta,
		Roles: k.Roles, Permissions: k.Permissions, Expires: k.ExpiresMs, Credits: k.Credits.toSDK(),
		Ratelimits: ratelimitsToSDK(k.Ratelimits),
	}
	enabled, recoverable := k.Enabled, k.Recoverable
	body.Enabled, body.Recoverable = &enabled, &recoverable
	if k.ByteLength > 0 {
		n := k.ByteLength
		body.ByteLength = &n
	}
	var out CreatedKey
	outcome, err := c.call(ctx, "keys.createKey", func(ctx context.Context) error {
		resp, err := c.sdk.Keys.CreateKey(ctx, body)
		if err != nil {
			return err
		}
		if resp.V2KeysCreateKeyResponseBody == nil {
			return errNoBody
		}
		out = CreatedKey{ID: resp.V2KeysCreateKeyResponseBody.Data.KeyID, Key: resp.V2KeysCreateKeyResponseBody.Data.Key}
		return nil
	})
	if err == nil && outcome.earlierAttemptMayHaveTakenEffect {
		return out, &DuplicateRiskError{Operation: "keys.createKey", Created: out.ID}
	}
	return out, err
}
