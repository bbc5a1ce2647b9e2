package unkeyclient_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

func TestPermissionsAndRoles(t *testing.T) {
	c, _, _ := newClient(t)
	ctx := context.Background()
	permID, err := c.CreatePermission(ctx, unkeyclient.Permission{Name: "Read", Slug: "docs.read", Description: "reads docs"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{permID, "docs.read"} {
		p, err := c.GetPermission(ctx, ref)
		if err != nil || p != (unkeyclient.Permission{ID: permID, Name: "Read", Slug: "docs.read", Description: "reads docs"}) {
			t.Fatalf("by %s: %+v, %v", ref, p, err)
		}
	}

	roleID, err := c.CreateRole(ctx, "reader", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetRolePermissions(ctx, roleID, []string{"docs.write", "docs.read"}); err != nil {
		t.Fatal(err)
	}
	r, err := c.GetRole(ctx, "reader")
	slices.Sort(r.Permissions)
	if err != nil || r.ID != roleID || r.Description != "" || strings.Join(r.Permissions, ",") != "docs.read,docs.write" {
		t.Fatalf("%+v, %v", r, err)
	}
	if err := c.SetRolePermissions(ctx, roleID, nil); err != nil {
		t.Fatal(err)
	}
	if r, _ := c.GetRole(ctx, roleID); len(r.Permissions) != 0 {
		t.Fatalf("cleared: %+v", r)
	}

	if err := c.DeleteRole(ctx, roleID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteRole(ctx, roleID); !unkeyclient.IsNotFound(err) {
		t.Fatalf("deleting a role that is gone: want its 404 (another workspace's looks the same), got %v", err)
	}
	if _, err := c.GetRole(ctx, roleID); !unkeyclient.IsNotFound(err) {
		t.Fatalf("want 404, got %v", err)
	}
	if err := c.SetRolePermissions(ctx, roleID, []string{"x"}); !unkeyclient.IsNotFound(err) {
		t.Fatalf("setRolePermissions of a deleted role: want 404, got %v", err)
	}
	if err := c.DeletePermission(ctx, "docs.read"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetPermission(ctx, permID); !unkeyclient.IsNotFound(err) {
		t.Fatalf("want 404, got %v", err)
	}
}

// setRolePermissions is sent without the SDK: its errors and retries must
// still be the client's.
func TestSetRolePermissionsErrorsAndRetries(t *testing.T) {
	srv, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
	seed := srv.SeedDefault()
	c := clientWithRootKey(t, url, seed.RootKey)
	ctx := context.Background()
	roleID, err := c.CreateRole(ctx, "r1", "")
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(unkeylocal.Fault{Path: "/v2/permissions.setRolePermissions", Kind: unkeylocal.FaultStatus, Status: 503, Times: 1})
	if err := c.SetRolePermissions(ctx, roleID, []string{"a"}); err != nil {
		t.Fatalf("a 503 must be retried: %v", err)
	}
	if n := len(srv.RequestsTo("/v2/permissions.setRolePermissions")); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}

	srv.AddRootKey(seed.WorkspaceID, "limited_root_key", "rbac.*.add_permission_to_role")
	err = clientWithRootKey(t, url, "limited_root_key").SetRolePermissions(ctx, roleID, []string{"a"})
	var apiErr *unkeyclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 403 || !strings.Contains(err.Error(), "rbac.*.remove_permission_from_role") {
		t.Fatalf("want a 403 naming the permission, got %v", err)
	}
	if strings.Contains(err.Error(), "limited_root_key") {
		t.Fatal("the root key leaked into an error")
	}
}

func clientWithRootKey(t *testing.T, url, rootKey string) *unkeyclient.Client {
	t.Helper()
	c, err := unkeyclient.New(unkeyclient.Config{BaseURL: url, RootKey: rootKey,
		Retry: unkeyclient.RetryPolicy{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxElapsed: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
