package unkeylocal

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"
)

type verified struct {
	Valid       bool             `json:"valid"`
	Code        string           `json:"code"`
	KeyID       string           `json:"keyId"`
	Name        string           `json:"name"`
	Meta        map[string]any   `json:"meta"`
	Expires     int64            `json:"expires"`
	Credits     *int64           `json:"credits"`
	Enabled     *bool            `json:"enabled"`
	Permissions []string         `json:"permissions"`
	Roles       []string         `json:"roles"`
	Identity    map[string]any   `json:"identity"`
	Ratelimits  []map[string]any `json:"ratelimits"`
}

func (e *env) verify(body map[string]any) verified {
	e.t.Helper()
	var v verified
	e.post("/v2/keys.verifyKey", body).ok(e.t, &v)
	return v
}

func TestVerifyKey(t *testing.T) {
	e := newEnv(t)
	res := e.migrate(
		map[string]any{"hash": NativeHash("sk_live_valid1234"), "name": "valid", "meta": map[string]any{"plan": "pro"}, "externalId": "u1",
			"roles": []string{"admin"}, "permissions": []string{"docs.read"}},
		map[string]any{"hash": NativeHash("disabled"), "enabled": false},
		map[string]any{"hash": NativeHash("expired"), "expires": time.Now().Add(-time.Minute).UnixMilli()},
		map[string]any{"hash": NativeHash("credits"), "credits": map[string]any{"remaining": 2}},
	)

	v := e.verify(map[string]any{"key": "sk_live_valid1234"})
	if !v.Valid || v.Code != CodeValid || v.KeyID != res.Migrated[0].KeyID || v.Name != "valid" || v.Meta["plan"] != "pro" ||
		v.Enabled == nil || !*v.Enabled || v.Credits != nil || v.Identity["externalId"] != "u1" || v.Roles[0] != "admin" || v.Permissions[0] != "docs.read" {
		t.Fatalf("%+v", v)
	}
	// A migrated key's start stays "" even once verified, as on Unkey.
	if k, _ := e.srv.KeyByID(v.KeyID); k.Start != "" {
		t.Errorf("start %q", k.Start)
	}
	if v := e.verify(map[string]any{"key": "unknown"}); v.Valid || v.Code != CodeNotFound || v.KeyID != "" || v.Enabled != nil {
		t.Errorf("%+v", v)
	}
	if v := e.verify(map[string]any{"key": "disabled"}); v.Valid || v.Code != CodeDisabled || v.KeyID != res.Migrated[1].KeyID {
		t.Errorf("%+v", v)
	}
	if v := e.verify(map[string]any{"key": "expired"}); v.Code != CodeExpired {
		t.Errorf("%+v", v)
	}
	// Credits are spent one per verification (or the given cost).
	if v := e.verify(map[string]any{"key": "credits"}); !v.Valid || *v.Credits != 1 {
		t.Errorf("%+v", v)
	}
	if v := e.verify(map[string]any{"key": "credits", "credits": map[string]any{"cost": 2}}); v.Valid || v.Code != CodeUsageExceeded || *v.Credits != 1 {
		t.Errorf("%+v", v)
	}
	if v := e.verify(map[string]any{"key": "credits"}); !v.Valid || *v.Credits != 0 {
		t.Errorf("%+v", v)
	}
	if v := e.verify(map[string]any{"key": "credits"}); v.Valid || v.Code != CodeUsageExceeded {
		t.Errorf("%+v", v)
	}
	if k, _ := e.srv.KeyByHash(NativeHash("credits")); *k.Credits.Remaining != 0 {
		t.Errorf("remaining %d", *k.Credits.Remaining)
	}
	// A hex SHA-256 is never found: only the native base64 format is.
	sum := sha256.Sum256([]byte("hex_key"))
	e.migrate(map[string]any{"hash": hex.EncodeToString(sum[:])})
	if v := e.verify(map[string]any{"key": "hex_key"}); v.Code != CodeNotFound {
		t.Errorf("a hex hash was found: %+v", v)
	}
	// Deleted keys are not found.
	e.post("/v2/keys.deleteKey", map[string]any{"keyId": res.Migrated[0].KeyID}).ok(t, nil)
	if v := e.verify(map[string]any{"key": "sk_live_valid1234"}); v.Code != CodeNotFound {
		t.Errorf("%+v", v)
	}
}

func TestVerifyKeyPermissionsQuery(t *testing.T) {
	e := newEnv(t)
	e.migrate(map[string]any{"hash": NativeHash("perm_key"), "permissions": []string{"a", "b"}})
	for query, valid := range map[string]bool{
		"a": true, "c": false, "a AND b": true, "a AND c": false, "c OR b": true, "(c OR a) AND b": true, "c or (a and c)": false,
	} {
		v := e.verify(map[string]any{"key": "perm_key", "permissions": query})
		if v.Valid != valid || (!valid && v.Code != CodeInsufficientPermissions) {
			t.Errorf("%q: %+v", query, v)
		}
	}
	for _, bad := range []string{"AND a", "a AND", "(a", "a b", "a $ b"} {
		e.post("/v2/keys.verifyKey", map[string]any{"key": "perm_key", "permissions": bad}).problem(t, 400, TypePermissionsQuerySyntax)
	}
}

func TestVerifyKeyRatelimits(t *testing.T) {
	e := newEnv(t)
	e.migrate(map[string]any{"hash": NativeHash("limited"), "ratelimits": []map[string]any{
		{"name": "auto", "limit": 2, "duration": 60000, "autoApply": true},
		{"name": "manual", "limit": 1, "duration": 60000, "autoApply": false},
	}})
	if time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)) < 2*time.Second {
		time.Sleep(3 * time.Second)
	}
	for i, want := range []string{CodeValid, CodeValid, CodeRateLimited} {
		v := e.verify(map[string]any{"key": "limited"})
		if v.Code != want || len(v.Ratelimits) != 1 || v.Ratelimits[0]["name"] != "auto" {
			t.Fatalf("verification %d: %+v", i, v)
		}
	}
	v := e.verify(map[string]any{"key": "limited", "ratelimits": []map[string]any{{"name": "manual"}}})
	if !v.Valid || v.Ratelimits[0]["remaining"] != 0.0 || v.Ratelimits[0]["exceeded"] != false {
		t.Fatalf("%+v", v)
	}
	if v := e.verify(map[string]any{"key": "limited", "ratelimits": []map[string]any{{"name": "manual"}}}); v.Code != CodeRateLimited {
		t.Fatalf("%+v", v)
	}
}

func TestVerifyKeySeamapiMigration(t *testing.T) {
	e := newEnv(t)
	raw := "my_company_BRTRKFsL_51FwqftsmMDHHbJAMEXXHCgG" // prefix_short_long; the prefix has an underscore
	h, err := SeamHash(raw)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("51FwqftsmMDHHbJAMEXXHCgG"))
	if h != hex.EncodeToString(sum[:]) {
		t.Fatalf("SeamHash %s", h)
	}
	var res migrated
	e.post("/v2/keys.migrateKeys", map[string]any{"migrationId": e.seed.SeamMigrationID, "apiId": e.seed.APIID,
		"keys": []map[string]any{{"hash": h}}}).ok(t, &res)
	id := res.Migrated[0].KeyID

	// Without the migration ID, or with the sha256 one, it is not found.
	if v := e.verify(map[string]any{"key": raw}); v.Code != CodeNotFound {
		t.Fatalf("%+v", v)
	}
	if v := e.verify(map[string]any{"key": raw, "migrationId": e.seed.MigrationID}); v.Code != CodeNotFound {
		t.Fatalf("%+v", v)
	}
	if v := e.verify(map[string]any{"key": raw, "migrationId": "mig_unknown"}); v.Code != CodeNotFound {
		t.Fatalf("%+v", v)
	}
	if v := e.verify(map[string]any{"key": raw, "migrationId": e.seed.SeamMigrationID}); !v.Valid || v.KeyID != id {
		t.Fatalf("%+v", v)
	}
	// The key was re-hashed to the native format.
	k, _ := e.srv.KeyByID(id)
	if k.Hash != NativeHash(raw) || k.PendingMigrationID != "" || k.MigrationID != e.seed.SeamMigrationID || k.Start != "" {
		t.Fatalf("%+v", k)
	}
	if _, ok := e.srv.KeyByHash(h); ok {
		t.Fatal("the old hash is still stored")
	}
	if v := e.verify(map[string]any{"key": raw}); !v.Valid {
		t.Fatalf("after re-hashing: %+v", v)
	}
	// A key that is not prefix_short_long is malformed for this algorithm.
	e.post("/v2/keys.verifyKey", map[string]any{"key": "nounderscores", "migrationId": e.seed.SeamMigrationID}).problem(t, 400, TypeAuthMalformed)
}

func TestVerifyKeyRootKeyPermissions(t *testing.T) {
	e := newEnv(t)
	e.migrateRaw("some_key")
	e.srv.AddRootKey(e.seed.WorkspaceID, "no_verify", "api.*.read_key")
	// Without verify_key, Unkey answers NOT_FOUND (not 403), as for any key.
	var v verified
	e.postAs("Bearer no_verify", "/v2/keys.verifyKey", map[string]any{"key": "some_key"}).ok(t, &v)
	if v.Valid || v.Code != CodeNotFound || v.KeyID != "" {
		t.Fatalf("%+v", v)
	}
	// Verify permissions for another API: NOT_FOUND, not to leak the key.
	e.srv.AddRootKey(e.seed.WorkspaceID, "other_api", "api.api_other.verify_key")
	e.postAs("Bearer other_api", "/v2/keys.verifyKey", map[string]any{"key": "some_key"}).ok(t, &v)
	if v.Code != CodeNotFound {
		t.Fatalf("%+v", v)
	}
	e.srv.AddRootKey(e.seed.WorkspaceID, "this_api", "api.api_local.verify_key")
	e.postAs("Bearer this_api", "/v2/keys.verifyKey", map[string]any{"key": "some_key"}).ok(t, &v)
	if !v.Valid {
		t.Fatalf("%+v", v)
	}
	// Keys of another workspace are not found.
	e.srv.AddRootKey("ws_2", "root_2", "*")
	e.postAs("Bearer root_2", "/v2/keys.verifyKey", map[string]any{"key": "some_key"}).ok(t, &v)
	if v.Code != CodeNotFound {
		t.Fatalf("%+v", v)
	}
}
