package unkeylocal

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// orders reads a key n times through an endpoint and returns the distinct
// orders its roles, permissions and rate limit names came back in.
func (e *env) orders(path string, body map[string]any, n int) []string {
	e.t.Helper()
	var seen []string
	for range n {
		var d keyLists
		a := e.post(path, body)
		if path == "/v2/apis.listKeys" {
			var list []keyLists
			a.ok(e.t, &list)
			d.Roles, d.Permissions, d.Ratelimits = list[0].Roles, list[0].Permissions, list[0].Ratelimits
		} else {
			a.ok(e.t, &d)
		}
		names := make([]string, 0, len(d.Ratelimits))
		for _, r := range d.Ratelimits {
			names = append(names, r.Name)
		}
		if len(d.Roles) != 4 || len(d.Permissions) != 4 || len(names) != 4 {
			e.t.Fatalf("%s: lists lost entries: %s", path, a.Data)
		}
		o := strings.Join(d.Roles, ",") + "|" + strings.Join(d.Permissions, ",") + "|" + strings.Join(names, ",")
		if !slices.Contains(seen, o) {
			seen = append(seen, o)
		}
	}
	return seen
}

type keyLists struct {
	Roles, Permissions []string
	Ratelimits         []struct{ Name string }
}

func fourOfEach() map[string]any {
	rls := []map[string]any{}
	for _, n := range []string{"rl_a", "rl_b", "rl_c", "rl_d"} {
		rls = append(rls, map[string]any{"name": n, "limit": 1000, "duration": 60000, "autoApply": true})
	}
	return map[string]any{
		"hash": NativeHash("sk_lists"), "roles": []string{"r1", "r2", "r3", "r4"},
		"permissions": []string{"p1", "p2", "p3", "p4"}, "ratelimits": rls,
	}
}

func TestListsOfAKeyComeBackShuffled(t *testing.T) {
	for _, path := range []string{"/v2/keys.getKey", "/v2/keys.verifyKey", "/v2/apis.listKeys"} {
		t.Run(path, func(t *testing.T) {
			e := newEnv(t, Options{ShuffleSeed: 42})
			id := e.migrate(fourOfEach()).Migrated[0].KeyID
			body := map[string]any{"keyId": id}
			switch path {
			case "/v2/keys.verifyKey":
				body = map[string]any{"key": "sk_lists"}
			case "/v2/apis.listKeys":
				body = map[string]any{"apiId": e.seed.APIID}
			}
			// 4! orders of each list: 20 reads in one order would be a bug.
			if got := e.orders(path, body, 20); len(got) < 2 {
				t.Fatalf("always the same order: %v", got)
			}
		})
	}
}

func TestShuffleSeedReproducesTheOrders(t *testing.T) {
	read := func() []string {
		e := newEnv(t, Options{ShuffleSeed: 7})
		id := e.migrate(fourOfEach()).Migrated[0].KeyID
		var all []string
		for range 5 {
			var d struct{ Roles []string }
			e.post("/v2/keys.getKey", map[string]any{"keyId": id}).ok(t, &d)
			all = append(all, strings.Join(d.Roles, ","))
		}
		return all
	}
	if a, b := read(), read(); !slices.Equal(a, b) {
		t.Fatalf("the same seed gave other orders:\n%v\n%v", a, b)
	}
}

func TestMetaNumbersGoThroughFloat64(t *testing.T) {
	e := newEnv(t)
	const sent = `{"a":1e3,"b":1.50,"c":9007199254740993,"d":[2E-1,{"e":-0.0}],"f":"1e3"}`
	const want = `{"a":1000,"b":1.5,"c":9007199254740992,"d":[0.2,{"e":-0}],"f":"1e3"}`
	body := `{"migrationId":"` + e.seed.MigrationID + `","apiId":"` + e.seed.APIID + `","keys":[{"hash":"` + NativeHash("sk_meta") + `","meta":` + sent + `}]}`
	var res migrated
	e.post("/v2/keys.migrateKeys", body).ok(t, &res)
	id := res.Migrated[0].KeyID
	var got struct{ Meta json.RawMessage }
	e.post("/v2/keys.getKey", map[string]any{"keyId": id}).ok(t, &got)
	if string(got.Meta) != want {
		t.Errorf("after migrateKeys: %s, want %s", got.Meta, want)
	}
	e.post("/v2/keys.updateKey", `{"keyId":"`+id+`","meta":{"n":12.50e1}}`).ok(t, nil)
	// A number float64 cannot hold is refused, and nothing changes.
	a := e.post("/v2/keys.updateKey", `{"keyId":"`+id+`","meta":{"n":[1,1e400]}}`)
	a.problem(t, 400, TypeInvalidInput)
	if len(a.Error.Errors) != 1 || a.Error.Errors[0].Location != "body.meta.n[1]" {
		t.Errorf("%s", a)
	}
	body = `{"migrationId":"` + e.seed.MigrationID + `","apiId":"` + e.seed.APIID + `","keys":[{"hash":"` + NativeHash("sk_huge") + `","meta":{"n":-1e999}}]}`
	e.post("/v2/keys.migrateKeys", body).problem(t, 400, TypeInvalidInput)
	if e.stored("sk_huge") {
		t.Error("a key with an unreadable meta was migrated")
	}
	e.post("/v2/keys.verifyKey", map[string]any{"key": "sk_meta"}).ok(t, &got)
	if string(got.Meta) != `{"n":125}` {
		t.Errorf("after updateKey, verifyKey: %s", got.Meta)
	}
}

func TestStartStaysEmptyAfterVerification(t *testing.T) {
	e := newEnv(t)
	id := e.migrateRaw("sk_live_started")[0]
	var v verified
	e.post("/v2/keys.verifyKey", map[string]any{"key": "sk_live_started"}).ok(t, &v)
	if !v.Valid {
		t.Fatalf("%+v", v)
	}
	var got map[string]any
	e.post("/v2/keys.getKey", map[string]any{"keyId": id}).ok(t, &got)
	if start, ok := got["start"]; !ok || start != "" {
		t.Errorf("start %v", got["start"])
	}
}

// distinctOrders reads n times and returns the distinct orders of the names
// read gives.
func distinctOrders(n int, read func() []string) []string {
	var seen []string
	for range n {
		o := strings.Join(read(), ",")
		if !slices.Contains(seen, o) {
			seen = append(seen, o)
		}
	}
	return seen
}

func TestRoleAndIdentityListsComeBackShuffled(t *testing.T) {
	e := newEnv(t, Options{ShuffleSeed: 42})
	four := []string{"p1", "p2", "p3", "p4"}
	e.post("/v2/permissions.createRole", map[string]any{"name": "lists", "permissions": four}).ok(t, nil)
	rls := fourOfEach()["ratelimits"]
	e.post("/v2/identities.createIdentity", map[string]any{"externalId": "lists", "ratelimits": rls}).ok(t, nil)

	reads := map[string]func() []string{
		"permissions.getRole": func() []string {
			var r roleAnswer
			e.post("/v2/permissions.getRole", map[string]any{"role": "lists"}).ok(t, &r)
			return permissionSlugs(r.Permissions)
		},
		"permissions.setRolePermissions": func() []string {
			var set []permissionAnswer
			var r roleAnswer
			e.post("/v2/permissions.getRole", map[string]any{"role": "lists"}).ok(t, &r)
			e.post("/v2/permissions.setRolePermissions", map[string]any{"roleId": r.ID, "permissions": four}).ok(t, &set)
			return permissionSlugs(set)
		},
		"identities.getIdentity": func() []string {
			var id identityAnswer
			e.post("/v2/identities.getIdentity", map[string]any{"identity": "lists"}).ok(t, &id)
			return ratelimitNames(id)
		},
		"identities.updateIdentity": func() []string {
			var id identityAnswer
			e.post("/v2/identities.updateIdentity", map[string]any{"identity": "lists", "ratelimits": rls}).ok(t, &id)
			return ratelimitNames(id)
		},
	}
	for name, read := range reads {
		if got := read(); len(got) != 4 {
			t.Fatalf("%s: lost entries: %v", name, got)
		}
		// 4! orders: 20 reads in one order would be a bug.
		if got := distinctOrders(20, read); len(got) < 2 {
			t.Errorf("%s: always the same order: %v", name, got)
		}
	}
}

func permissionSlugs(perms []permissionAnswer) []string {
	out := make([]string, len(perms))
	for i, p := range perms {
		out[i] = p.Slug
	}
	return out
}

func ratelimitNames(id identityAnswer) []string {
	out := make([]string, len(id.Ratelimits))
	for i, r := range id.Ratelimits {
		out[i] = r.Name
	}
	return out
}

func TestIdentityMetaGoesThroughFloat64(t *testing.T) {
	e := newEnv(t)
	const sent = `{"a":1e3,"b":1.50,"c":9007199254740993,"d":[2E-1,{"e":-0.0}],"f":"1e3"}`
	const want = `{"a":1000,"b":1.5,"c":9007199254740992,"d":[0.2,{"e":-0}],"f":"1e3"}`
	e.post("/v2/identities.createIdentity", `{"externalId":"floats","meta":`+sent+`}`).ok(t, nil)
	var got struct{ Meta json.RawMessage }
	e.post("/v2/identities.getIdentity", map[string]any{"identity": "floats"}).ok(t, &got)
	if string(got.Meta) != want {
		t.Errorf("after createIdentity: %s, want %s", got.Meta, want)
	}
	e.post("/v2/identities.updateIdentity", `{"identity":"floats","meta":{"n":12.50e1}}`).ok(t, &got)
	if string(got.Meta) != `{"n":125}` {
		t.Errorf("after updateIdentity: %s", got.Meta)
	}

	// A number float64 cannot hold is refused, and nothing changes.
	a := e.post("/v2/identities.updateIdentity", `{"identity":"floats","meta":{"n":[1,1e400]}}`)
	a.problem(t, 400, TypeInvalidInput)
	if len(a.Error.Errors) != 1 || a.Error.Errors[0].Location != "body.meta.n[1]" {
		t.Errorf("%s", a)
	}
	e.post("/v2/identities.getIdentity", map[string]any{"identity": "floats"}).ok(t, &got)
	if string(got.Meta) != `{"n":125}` {
		t.Errorf("a refused update changed meta: %s", got.Meta)
	}
	e.post("/v2/identities.createIdentity", `{"externalId":"huge","meta":{"n":-1e999}}`).problem(t, 400, TypeInvalidInput)
	e.post("/v2/identities.getIdentity", map[string]any{"identity": "huge"}).problem(t, 404, TypeIdentityNotFound)
	before := e.srv.KeyCount()
	e.post("/v2/keys.createKey", `{"apiId":"`+e.seed.APIID+`","meta":{"n":1e400}}`).problem(t, 400, TypeInvalidInput)
	if e.srv.KeyCount() != before {
		t.Error("keys.createKey stored a key with an unreadable meta")
	}
}
