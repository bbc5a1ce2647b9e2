package unkeylocal_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	unkey "github.com/unkeyed/sdks/api/go/v2"
	"github.com/unkeyed/sdks/api/go/v2/models/apierrors"
	"github.com/unkeyed/sdks/api/go/v2/models/components"
	"github.com/unkeyed/sdks/api/go/v2/retry"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// These tests drive the server through Unkey's official Go SDK, the client
// the provider uses, to prove that it decodes the answers.

func newSDK(t *testing.T) (*unkey.Unkey, *unkeylocal.Server, unkeylocal.Seed) {
	t.Helper()
	srv, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
	seed := srv.SeedDefault()
	sdk := unkey.New(unkey.WithServerURL(url), unkey.WithSecurity(seed.RootKey), unkey.WithRetryConfig(retry.Config{Strategy: "none"}))
	return sdk, srv, seed
}

func TestSDKMigrateKeys(t *testing.T) {
	sdk, srv, seed := newSDK(t)
	ctx := context.Background()
	name, ext := "customer 1", "user_1"
	monthly := int64(15)
	remaining := int64(100)
	autoApply := true
	first := components.V2KeysMigrateKeyData{
		Hash: unkeylocal.NativeHash("sk_legacy_1"), Name: &name, ExternalID: &ext, Meta: map[string]any{"plan": "pro"},
		Roles: []string{"admin"}, Permissions: []string{"docs.read"},
		Credits: &components.KeyCreditsData{Remaining: &remaining, Refill: &components.KeyCreditsRefill{
			Interval: components.KeyCreditsRefillIntervalMonthly, Amount: 50, RefillDay: &monthly}},
		Ratelimits: []components.RatelimitRequest{{Name: "requests", Limit: 10, Duration: 60000, AutoApply: &autoApply}},
	}
	res, err := sdk.Keys.MigrateKeys(ctx, components.V2KeysMigrateKeysRequestBody{
		MigrationID: seed.MigrationID, APIID: seed.APIID, Keys: []components.V2KeysMigrateKeyData{first},
	})
	if err != nil {
		t.Fatal(err)
	}
	data := res.V2KeysMigrateKeysResponseBody.Data
	if len(data.Migrated) != 1 || data.Failed != nil || !strings.HasPrefix(res.V2KeysMigrateKeysResponseBody.Meta.RequestID, "req_") {
		t.Fatalf("%+v", data)
	}
	keyID := data.Migrated[0].KeyID

	// Partial success: failed decodes as a list.
	res, err = sdk.Keys.MigrateKeys(ctx, components.V2KeysMigrateKeysRequestBody{
		MigrationID: seed.MigrationID, APIID: seed.APIID,
		Keys: []components.V2KeysMigrateKeyData{{Hash: first.Hash}, {Hash: unkeylocal.NativeHash("sk_legacy_2")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	data = res.V2KeysMigrateKeysResponseBody.Data
	if len(data.Migrated) != 1 || len(data.Failed) != 1 || data.Failed[0] != first.Hash {
		t.Fatalf("%+v", data)
	}

	got, err := sdk.Keys.GetKey(ctx, components.V2KeysGetKeyRequestBody{KeyID: keyID})
	if err != nil {
		t.Fatal(err)
	}
	k := got.V2KeysGetKeyResponseBody.Data
	if k.KeyID != keyID || k.Start != "" || !k.Enabled || *k.Name != name || k.Meta["plan"] != "pro" || k.Identity == nil || k.Identity.ExternalID != ext ||
		len(k.Roles) != 1 || len(k.Permissions) != 1 || k.Credits == nil || *k.Credits.Remaining != 100 || k.Credits.Refill == nil ||
		k.Credits.Refill.Interval != components.KeyCreditsRefillIntervalMonthly || *k.Credits.Refill.RefillDay != 15 ||
		len(k.Ratelimits) != 1 || !k.Ratelimits[0].AutoApply || k.Ratelimits[0].Duration != 60000 || k.CreatedAt == 0 || k.Expires != nil {
		b, _ := json.Marshal(k)
		t.Fatalf("%s", b)
	}
	if n := len(srv.Keys(seed.APIID)); n != 2 {
		t.Fatalf("%d keys", n)
	}
}

func TestSDKErrors(t *testing.T) {
	sdk, srv, seed := newSDK(t)
	ctx := context.Background()

	// Unkey answers errors as application/problem+json while the SDK expects
	// application/json for every status but 429: it returns a generic
	// *apierrors.APIError whose Body holds the problem.
	_, err := sdk.Keys.GetKey(ctx, components.V2KeysGetKeyRequestBody{KeyID: "key_unknown"})
	var apiErr *apierrors.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || !strings.Contains(apiErr.Message, "unknown content-type received: application/problem+json") {
		t.Fatalf("err = %v (%T)", err, err)
	}
	var problem struct {
		Meta  struct{ RequestID string }
		Error struct{ Title, Detail, Type string }
	}
	if err := json.Unmarshal([]byte(apiErr.Body), &problem); err != nil {
		t.Fatal(err)
	}
	if problem.Error.Title != "Not Found" || problem.Error.Detail != "We could not find the requested key." ||
		problem.Error.Type != unkeylocal.TypeKeyNotFound || !strings.HasPrefix(problem.Meta.RequestID, "req_") {
		t.Fatalf("%+v", problem)
	}

	// A 429 is declared application/problem+json, so it decodes into the
	// SDK's typed error.
	srv.SetRateLimit(seed.WorkspaceID, 1)
	_, _ = sdk.Apis.GetAPI(ctx, components.V2ApisGetAPIRequestBody{APIID: seed.APIID})
	_, err = sdk.Apis.GetAPI(ctx, components.V2ApisGetAPIRequestBody{APIID: seed.APIID})
	var limited *apierrors.TooManyRequestsErrorResponse
	if !errors.As(err, &limited) {
		// The first call may have been the last of a minute.
		_, err = sdk.Apis.GetAPI(ctx, components.V2ApisGetAPIRequestBody{APIID: seed.APIID})
	}
	if !errors.As(err, &limited) || limited.Error_.Status != 429 || limited.Error_.Type != unkeylocal.TypeWorkspaceRateLimited ||
		limited.Error_.Detail == "" || !strings.HasPrefix(limited.Meta.RequestID, "req_") {
		t.Fatalf("err = %v (%T)", err, err)
	}
	srv.SetRateLimit(seed.WorkspaceID, 0)

	// The 500 of a repeated hash.
	h := unkeylocal.NativeHash("dup")
	_, err = sdk.Keys.MigrateKeys(ctx, components.V2KeysMigrateKeysRequestBody{MigrationID: seed.MigrationID, APIID: seed.APIID,
		Keys: []components.V2KeysMigrateKeyData{{Hash: h}, {Hash: h}}})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 || !strings.Contains(apiErr.Body, unkeylocal.TypeUnexpectedError) {
		t.Fatalf("err = %v", err)
	}
}

func TestSDKVerifyKeyAndAPIs(t *testing.T) {
	sdk, _, seed := newSDK(t)
	ctx := context.Background()
	created, err := sdk.Apis.CreateAPI(ctx, components.V2ApisCreateAPIRequestBody{Name: "sdk api"})
	if err != nil {
		t.Fatal(err)
	}
	apiID := created.V2ApisCreateAPIResponseBody.Data.APIID
	got, err := sdk.Apis.GetAPI(ctx, components.V2ApisGetAPIRequestBody{APIID: apiID})
	if err != nil || got.V2ApisGetAPIResponseBody.Data.Name != "sdk api" {
		t.Fatalf("%v %+v", err, got)
	}
	raw := "sk_test_abcdef123456"
	if _, err := sdk.Keys.MigrateKeys(ctx, components.V2KeysMigrateKeysRequestBody{MigrationID: seed.MigrationID, APIID: apiID,
		Keys: []components.V2KeysMigrateKeyData{{Hash: unkeylocal.NativeHash(raw), Meta: map[string]any{"a": 1}}}}); err != nil {
		t.Fatal(err)
	}
	v, err := sdk.Keys.VerifyKey(ctx, components.V2KeysVerifyKeyRequestBody{Key: raw})
	if err != nil {
		t.Fatal(err)
	}
	d := v.V2KeysVerifyKeyResponseBody.Data
	if !d.Valid || d.Code != components.CodeValid || d.KeyID == nil || d.Enabled == nil || !*d.Enabled || d.Meta["a"] != float64(1) {
		t.Fatalf("%+v", d)
	}
	v, err = sdk.Keys.VerifyKey(ctx, components.V2KeysVerifyKeyRequestBody{Key: "nope"})
	if err != nil || v.V2KeysVerifyKeyResponseBody.Data.Code != components.CodeNotFound || v.V2KeysVerifyKeyResponseBody.Data.Valid {
		t.Fatalf("%v %+v", err, v)
	}

	list, err := sdk.Apis.ListKeys(ctx, components.V2ApisListKeysRequestBody{APIID: apiID})
	if err != nil {
		t.Fatal(err)
	}
	if body := list.V2ApisListKeysResponseBody; len(body.Data) != 1 || body.Pagination.HasMore || body.Data[0].Meta["a"] != float64(1) {
		t.Fatalf("%+v", body)
	}

	roles, err := sdk.Keys.SetRoles(ctx, components.V2KeysSetRolesRequestBody{KeyID: *d.KeyID, Roles: []string{}})
	if err != nil || len(roles.V2KeysSetRolesResponseBody.Data) != 0 {
		t.Fatalf("%v %+v", err, roles)
	}
	perms, err := sdk.Keys.SetPermissions(ctx, components.V2KeysSetPermissionsRequestBody{KeyID: *d.KeyID, Permissions: []string{"x.read"}})
	if err != nil || perms.V2KeysSetPermissionsResponseBody.Data[0].Slug != "x.read" {
		t.Fatalf("%v %+v", err, perms)
	}
	enabled := false
	if _, err := sdk.Keys.UpdateKey(ctx, components.V2KeysUpdateKeyRequestBody{KeyID: *d.KeyID, Enabled: &enabled}); err != nil {
		t.Fatal(err)
	}
	permanent := true
	if _, err := sdk.Keys.DeleteKey(ctx, components.V2KeysDeleteKeyRequestBody{KeyID: *d.KeyID, Permanent: &permanent}); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.Apis.DeleteAPI(ctx, components.V2ApisDeleteAPIRequestBody{APIID: apiID}); err != nil {
		t.Fatal(err)
	}
}
