package unkeyclient_test

import (
	"context"
	"testing"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

func TestIdentities(t *testing.T) {
	c, _, _ := newClient(t)
	ctx := context.Background()
	rl := []unkeyclient.Ratelimit{{Name: "requests", Limit: 10, DurationMs: 60000, AutoApply: true}}
	id, err := c.CreateIdentity(ctx, "acme", map[string]any{"plan": "pro"}, rl)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetIdentity(ctx, "acme")
	if err != nil || got.ID != id || got.Meta["plan"] != "pro" || len(got.Ratelimits) != 1 || got.Ratelimits[0] != rl[0] {
		t.Fatalf("%+v, %v", got, err)
	}
	// nil clears both (sent as {} and []).
	got, err = c.UpdateIdentity(ctx, id, nil, nil)
	if err != nil || len(got.Meta) != 0 || len(got.Ratelimits) != 0 {
		t.Fatalf("cleared: %+v, %v", got, err)
	}
	if _, err := c.CreateIdentity(ctx, "acme", nil, nil); err == nil {
		t.Fatal("a second identity of one external ID must be refused")
	}
	if err := c.DeleteIdentity(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteIdentity(ctx, id); !unkeyclient.IsNotFound(err) {
		t.Fatalf("deleting an identity that is gone: want its 404 (another workspace's looks the same), got %v", err)
	}
	if _, err := c.GetIdentity(ctx, id); !unkeyclient.IsNotFound(err) {
		t.Fatalf("want 404, got %v", err)
	}
}

func TestCreateKey(t *testing.T) {
	c, srv, seed := newClient(t)
	ctx := context.Background()
	name, owner := "svc", "acme"
	created, err := c.CreateKey(ctx, unkeyclient.NewKey{APIID: seed.APIID, Prefix: "prod", ByteLength: 32,
		Key: unkeyclient.Key{Name: &name, ExternalID: &owner, Enabled: false, Permissions: []string{"p"},
			Credits: &unkeyclient.Credits{Remaining: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	k, ok := srv.KeyByID(created.ID)
	if !ok || k.Hash != hashOf(created.Key) || k.Name != "svc" || k.ExternalID != "acme" || k.Enabled || *k.Credits.Remaining != 3 {
		t.Fatalf("%+v", k)
	}
	info, err := c.GetKey(ctx, created.ID)
	if err != nil || info.Enabled || *info.ExternalID != "acme" {
		t.Fatalf("%+v, %v", info, err)
	}
	if _, err := c.CreateKey(ctx, unkeyclient.NewKey{APIID: seed.APIID, Key: unkeyclient.Key{Roles: []string{"missing"}, Enabled: true}}); !unkeyclient.IsNotFound(err) {
		t.Fatalf("a missing role: want 404, got %v", err)
	}
}
