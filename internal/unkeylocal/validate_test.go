package unkeylocal

import (
	"strings"
	"testing"
)

// validMigrateKey has every field of V2KeysMigrateKeyData.
func validMigrateKey() map[string]any {
	return map[string]any{
		"hash":        NativeHash("full"),
		"name":        "full key",
		"externalId":  "user_1",
		"meta":        map[string]any{"plan": "pro", "n": 1},
		"roles":       []string{"admin"},
		"permissions": []string{"documents.read", "api.*"},
		"expires":     4102444800000,
		"enabled":     false,
		"credits":     map[string]any{"remaining": 10, "refill": map[string]any{"interval": "monthly", "amount": 5, "refillDay": 31}},
		"ratelimits":  []map[string]any{{"name": "requests", "limit": 10, "duration": 1000, "autoApply": true}},
	}
}

func TestMigrateKeysValidation(t *testing.T) {
	e := newEnv(t)
	with := func(change func(k map[string]any)) map[string]any {
		k := validMigrateKey()
		change(k)
		return map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID, "keys": []any{k}}
	}
	top := func(change func(b map[string]any)) map[string]any {
		b := map[string]any{"migrationId": e.seed.MigrationID, "apiId": e.seed.APIID, "keys": []any{validMigrateKey()}}
		change(b)
		return b
	}
	for _, tc := range []struct {
		name     string
		body     map[string]any
		location string
		message  string
	}{
		{"unknown top-level field", top(func(b map[string]any) { b["dryRun"] = true }), "body.dryRun", "additional properties 'dryRun' not allowed"},
		{"unknown key field", with(func(k map[string]any) { k["prefix"] = "sk" }), "body.keys[0]", "additional properties 'prefix' not allowed"},
		{"unknown credits field", with(func(k map[string]any) { k["credits"] = map[string]any{"remaining": 1, "extra": 1} }), "body.keys[0].credits", "additional properties 'extra' not allowed"},
		{"missing migrationId", top(func(b map[string]any) { delete(b, "migrationId") }), "body.migrationId", "missing property 'migrationId'"},
		{"short migrationId", top(func(b map[string]any) { b["migrationId"] = "ab" }), "body.migrationId", "minLength: got 2, want 3"},
		{"long apiId", top(func(b map[string]any) { b["apiId"] = strings.Repeat("a", 256) }), "body.apiId", "maxLength: got 256, want 255"},
		{"no keys", top(func(b map[string]any) { b["keys"] = []any{} }), "body.keys", "minItems: got 0, want 1"},
		{"keys not an array", top(func(b map[string]any) { b["keys"] = "x" }), "body.keys", "got string, want array"},
		{"missing hash", with(func(k map[string]any) { delete(k, "hash") }), "body.keys[0]", "missing property 'hash'"},
		{"short hash", with(func(k map[string]any) { k["hash"] = "ab" }), "body.keys[0].hash", "minLength: got 2, want 3"},
		{"empty name", with(func(k map[string]any) { k["name"] = "" }), "body.keys[0].name", "minLength: got 0, want 1"},
		{"long externalId", with(func(k map[string]any) { k["externalId"] = strings.Repeat("é", 256) }), "body.keys[0].externalId", "maxLength: got 256, want 255"},
		{"meta not an object", with(func(k map[string]any) { k["meta"] = []int{1} }), "body.keys[0].meta", "got array, want object"},
		{"101 meta properties", with(func(k map[string]any) {
			m := map[string]any{}
			for i := 0; i < 101; i++ {
				m[strings.Repeat("k", i+1)] = i
			}
			k["meta"] = m
		}), "body.keys[0].meta", "maxProperties: got 101, want 100"},
		{"101 roles", with(func(k map[string]any) { k["roles"] = strings.Split(strings.Repeat("r,", 100)+"r", ",") }), "body.keys[0].roles", "maxItems: got 101, want 100"},
		{"long role", with(func(k map[string]any) { k["roles"] = []string{strings.Repeat("r", 129)} }), "body.keys[0].roles[0]", "maxLength: got 129, want 128"},
		{"bad permission", with(func(k map[string]any) { k["permissions"] = []string{"read docs"} }), "body.keys[0].permissions[0]", `'read docs' does not match pattern '^[a-zA-Z0-9_:\\-\\.\\*]+$'`},
		{"1001 permissions", with(func(k map[string]any) {
			p := make([]string, 1001)
			for i := range p {
				p[i] = "p"
			}
			k["permissions"] = p
		}), "body.keys[0].permissions", "maxItems: got 1001, want 1000"},
		{"negative expires", with(func(k map[string]any) { k["expires"] = -1 }), "body.keys[0].expires", "minimum: got -1, want 0"},
		{"expires after 2100", with(func(k map[string]any) { k["expires"] = 4102444800001 }), "body.keys[0].expires", "maximum: got 4.102444800001e+12, want 4.1024448e+12"},
		{"fractional expires", with(func(k map[string]any) { k["expires"] = 1.5 }), "body.keys[0].expires", "got number, want integer"},
		{"enabled as string", with(func(k map[string]any) { k["enabled"] = "yes" }), "body.keys[0].enabled", "got string, want boolean"},
		{"credits without remaining", with(func(k map[string]any) { k["credits"] = map[string]any{} }), "body.keys[0].credits", "missing property 'remaining'"},
		{"credits null", with(func(k map[string]any) { k["credits"] = nil }), "body.keys[0].credits", "got null, want object"},
		{"negative remaining", with(func(k map[string]any) { k["credits"] = map[string]any{"remaining": -1} }), "body.keys[0].credits.remaining", "minimum: got -1, want 0"},
		{"weekly refill", with(func(k map[string]any) {
			k["credits"] = map[string]any{"remaining": 1, "refill": map[string]any{"interval": "weekly", "amount": 1}}
		}), "body.keys[0].credits.refill.interval", "value must be one of 'daily', 'monthly'"},
		{"refill amount 0", with(func(k map[string]any) {
			k["credits"] = map[string]any{"remaining": 1, "refill": map[string]any{"interval": "daily", "amount": 0}}
		}), "body.keys[0].credits.refill.amount", "minimum: got 0, want 1"},
		{"refill day 32", with(func(k map[string]any) {
			k["credits"] = map[string]any{"remaining": 1, "refill": map[string]any{"interval": "monthly", "amount": 1, "refillDay": 32}}
		}), "body.keys[0].credits.refill.refillDay", "maximum: got 32, want 31"},
		{"51 ratelimits", with(func(k map[string]any) {
			rls := make([]map[string]any, 51)
			for i := range rls {
				rls[i] = map[string]any{"name": "rl" + strings.Repeat("x", i+1), "limit": 1, "duration": 1000, "autoApply": false}
			}
			k["ratelimits"] = rls
		}), "body.keys[0].ratelimits", "maxItems: got 51, want 50"},
		{"ratelimit without autoApply", with(func(k map[string]any) {
			k["ratelimits"] = []map[string]any{{"name": "requests", "limit": 1, "duration": 1000}}
		}), "body.keys[0].ratelimits[0]", "missing property 'autoApply'"},
		{"short ratelimit name", with(func(k map[string]any) {
			k["ratelimits"] = []map[string]any{{"name": "ab", "limit": 1, "duration": 1000, "autoApply": true}}
		}), "body.keys[0].ratelimits[0].name", "minLength: got 2, want 3"},
		{"ratelimit limit 0", with(func(k map[string]any) {
			k["ratelimits"] = []map[string]any{{"name": "abc", "limit": 0, "duration": 1000, "autoApply": true}}
		}), "body.keys[0].ratelimits[0].limit", "minimum: got 0, want 1"},
		{"ratelimit of 999ms", with(func(k map[string]any) {
			k["ratelimits"] = []map[string]any{{"name": "abc", "limit": 1, "duration": 999, "autoApply": true}}
		}), "body.keys[0].ratelimits[0].duration", "minimum: got 999, want 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.post("/v2/keys.migrateKeys", tc.body)
			detail := a.problem(t, 400, TypeInvalidInput)
			if detail != tc.message || len(a.Error.Errors) != 1 || a.Error.Errors[0].Location != tc.location || a.Error.Errors[0].Message != tc.message {
				t.Fatalf("want %s: %s; got %s", tc.location, tc.message, a.Raw)
			}
		})
	}
	if e.srv.KeyCount() != 0 {
		t.Fatal("an invalid request inserted keys")
	}
	// The full valid key passes, and a ratelimit may carry other properties
	// (RatelimitRequest does not forbid them).
	k := validMigrateKey()
	k["ratelimits"] = []map[string]any{{"name": "requests", "limit": 10, "duration": 1000, "autoApply": true, "note": "x"}}
	if res := e.migrate(k); len(res.Migrated) != 1 {
		t.Fatalf("%+v", res)
	}
}

func TestSeveralValidationErrors(t *testing.T) {
	e := newEnv(t)
	a := e.post("/v2/keys.migrateKeys", map[string]any{"migrationId": "a", "apiId": "b", "keys": []any{map[string]any{"hash": "c"}}})
	if d := a.problem(t, 400, TypeInvalidInput); d != "One or more fields failed validation" || len(a.Error.Errors) != 3 {
		t.Fatalf("%s", a.Raw)
	}
}

func TestOtherEndpointsValidation(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		path     string
		body     map[string]any
		location string
		message  string
	}{
		{"/v2/keys.getKey", map[string]any{}, "body.keyId", "missing property 'keyId'"},
		{"/v2/keys.getKey", map[string]any{"keyId": "key-1"}, "body.keyId", `'key-1' does not match pattern '^[a-zA-Z0-9_]+$'`},
		{"/v2/keys.getKey", map[string]any{"keyId": "key_1", "decrypt": "no"}, "body.decrypt", "got string, want boolean"},
		{"/v2/keys.updateKey", map[string]any{"keyId": "key_1", "externalId": "user 1"}, "body.externalId", `'user 1' does not match pattern '^[a-zA-Z0-9_.-]+$'`},
		{"/v2/keys.updateKey", map[string]any{"keyId": "key_1", "name": ""}, "body.name", "minLength: got 0, want 1"},
		{"/v2/keys.updateKey", map[string]any{"keyId": "key_1", "enabled": nil}, "body.enabled", "got null, want boolean"},
		{"/v2/keys.updateKey", map[string]any{"keyId": "key_1", "ratelimits": nil}, "body.ratelimits", "got null, want array"},
		{"/v2/keys.updateKey", map[string]any{"keyId": "key_1", "roles": nil}, "body.roles", "got null, want array"},
		{"/v2/keys.updateKey", map[string]any{"keyId": "key_1", "credits": map[string]any{"refill": map[string]any{"interval": "daily"}}}, "body.credits.refill", "missing property 'amount'"},
		{"/v2/keys.updateKey", map[string]any{"keyId": "key_1", "expires": "soon"}, "body.expires", "got string, want integer or null"},
		{"/v2/keys.setRoles", map[string]any{"keyId": "key_1"}, "body.roles", "missing property 'roles'"},
		{"/v2/keys.setPermissions", map[string]any{"keyId": "key_1", "permissions": []string{strings.Repeat("p", 129)}}, "body.permissions[0]", "maxLength: got 129, want 128"},
		{"/v2/keys.deleteKey", map[string]any{"keyId": "key_1", "permanent": 1}, "body.permanent", "got number, want boolean"},
		{"/v2/keys.verifyKey", map[string]any{"key": ""}, "body.key", "minLength: got 0, want 1"},
		{"/v2/keys.verifyKey", map[string]any{"key": "k", "credits": map[string]any{}}, "body.credits", "missing property 'cost'"},
		{"/v2/keys.verifyKey", map[string]any{"key": "k", "migrationId": strings.Repeat("m", 257)}, "body.migrationId", "maxLength: got 257, want 256"},
		{"/v2/apis.createApi", map[string]any{"name": "ab"}, "body.name", "minLength: got 2, want 3"},
		{"/v2/apis.createApi", map[string]any{"name": strings.Repeat("n", 257)}, "body.name", "maxLength: got 257, want 256"},
		{"/v2/apis.getApi", map[string]any{"apiId": "api_1"}, "body.apiId", "minLength: got 5, want 8"},
		{"/v2/apis.deleteApi", map[string]any{"apiId": "api_1234", "force": true}, "body.force", "additional properties 'force' not allowed"},
		{"/v2/apis.listKeys", map[string]any{"apiId": "api_local", "limit": 101}, "body.limit", "maximum: got 101, want 100"},
		{"/v2/apis.listKeys", map[string]any{"apiId": ""}, "body.apiId", "minLength: got 0, want 1"},
	} {
		t.Run(tc.path+" "+tc.message, func(t *testing.T) {
			a := e.post(tc.path, tc.body)
			a.problem(t, 400, TypeInvalidInput)
			if len(a.Error.Errors) != 1 || a.Error.Errors[0].Location != tc.location || a.Error.Errors[0].Message != tc.message {
				t.Fatalf("want %s: %s; got %s", tc.location, tc.message, a.Raw)
			}
		})
	}
}

func TestQuoteLikeTheSchemaLibrary(t *testing.T) {
	for in, want := range map[string]string{`a`: `'a'`, `it's`: `'it\'s'`, `say "x"`: `'say "x"'`, "tab\t": `'tab\t'`} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}
