package unkeyclient_test

import (
	"context"
	"testing"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// A 404 from a delete proves nothing (Unkey answers it for an object of
// another workspace too), except when it answers the retry of an attempt
// whose answer was lost: that attempt deleted it.
func TestDeleteTakesA404ForDoneOnlyAfterALostAnswer(t *testing.T) {
	c, srv, seed := newClient(t)
	ctx := context.Background()
	created, err := c.CreateKey(ctx, unkeyclient.NewKey{APIID: seed.APIID})
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(unkeylocal.Fault{Path: "/v2/keys.deleteKey", Kind: unkeylocal.FaultDropAfterProcessing, Times: 1})
	if err := c.DeleteKey(ctx, created.ID); err != nil {
		t.Fatalf("a delete whose first answer was lost: %v", err)
	}
	if n := len(srv.RequestsTo("/v2/keys.deleteKey")); n != 2 {
		t.Fatalf("%d keys.deleteKey requests, want 2 (the lost one and its retry)", n)
	}
	if err := c.DeleteKey(ctx, created.ID); !unkeyclient.IsNotFound(err) {
		t.Fatalf("deleting the deleted key again: want its 404, got %v", err)
	}

	srv.InjectFault(unkeylocal.Fault{Path: "/v2/apis.deleteApi", Kind: unkeylocal.FaultDropAfterProcessing, Times: 1})
	if err := c.DeleteAPI(ctx, seed.APIID); err != nil {
		t.Fatalf("an API delete whose first answer was lost: %v", err)
	}
	if err := c.DeleteAPI(ctx, seed.APIID); !unkeyclient.IsNotFound(err) {
		t.Fatalf("deleting the deleted API again: want its 404, got %v", err)
	}
}
