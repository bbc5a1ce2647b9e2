package unkeylocal

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// newKey is one keys[] entry of keys.migrateKeys, read from a validated body.
type newKey struct {
	hash        string
	name        string
	externalID  string
	meta        json.RawMessage
	roles       []string
	permissions []string
	expires     *int64
	enabled     bool
	remaining   *int64
	refill      *refillInput
	ratelimits  []ratelimitInput
}

type refillInput struct {
	interval  string
	amount    int64
	refillDay *int64
}

type ratelimitInput struct {
	name            string
	limit, duration int64
	autoApply       bool
}

func readRefill(m map[string]any) *refillInput {
	r := &refillInput{}
	r.interval, _ = strField(m, "interval")
	r.amount, _ = intField(m, "amount")
	if d, ok := intField(m, "refillDay"); ok {
		r.refillDay = &d
	}
	return r
}

func readRatelimits(arr []any) []ratelimitInput {
	out := make([]ratelimitInput, 0, len(arr))
	for _, x := range arr {
		m, _ := x.(map[string]any)
		var rl ratelimitInput
		rl.name, _ = strField(m, "name")
		rl.limit, _ = intField(m, "limit")
		rl.duration, _ = intField(m, "duration")
		rl.autoApply, _ = boolField(m, "autoApply")
		out = append(out, rl)
	}
	return out
}

// canonicalJSON re-encodes a decoded object the way Unkey stores meta:
// json.Marshal of a map[string]any (sorted keys, compact), whose numbers
// went through float64, so 1e3 comes back 1000, 1.50 as 1.5 and
// 9007199254740993 as 9007199254740992.
func canonicalJSON(v any) json.RawMessage {
	b, err := json.Marshal(throughFloat64(v))
	if err != nil {
		return nil
	}
	return b
}

// throughFloat64 turns the json.Numbers of a decoded tree into float64s,
// as decoding into any does on Unkey's server. checkMetaNumbers has
// refused numbers out of float64's range.
func throughFloat64(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = throughFloat64(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = throughFloat64(e)
		}
		return out
	}
	return v
}

// checkMetaNumbers refuses a meta with a number float64 cannot hold (such
// as 1e400), which Unkey's server fails to decode.
func checkMetaNumbers(location string, v any) *problem {
	switch x := v.(type) {
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return badRequest("Failed to parse request body",
				fieldError{Location: location, Message: "json: cannot unmarshal number " + string(x) + " into Go value of type float64"})
		}
	case map[string]any:
		for k, e := range x {
			if p := checkMetaNumbers(location+"."+k, e); p != nil {
				return p
			}
		}
	case []any:
		for i, e := range x {
			if p := checkMetaNumbers(fmt.Sprintf("%s[%d]", location, i), e); p != nil {
				return p
			}
		}
	}
	return nil
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func readNewKey(m map[string]any) newKey {
	k := newKey{enabled: true}
	k.hash, _ = strField(m, "hash")
	k.name, _ = strField(m, "name")
	k.externalID, _ = strField(m, "externalId")
	if meta, ok := objField(m, "meta"); ok {
		k.meta = canonicalJSON(meta)
	}
	if roles, ok := arrField(m, "roles"); ok {
		k.roles = dedupe(stringList(roles))
	}
	if perms, ok := arrField(m, "permissions"); ok {
		k.permissions = dedupe(stringList(perms))
	}
	if e, ok := intField(m, "expires"); ok {
		k.expires = &e
	}
	if e, ok := boolField(m, "enabled"); ok {
		k.enabled = e
	}
	if c, ok := objField(m, "credits"); ok {
		if r, ok := intField(c, "remaining"); ok {
			k.remaining = &r
		}
		if rf, ok := objField(c, "refill"); ok {
			k.refill = readRefill(rf)
		}
	}
	if rls, ok := arrField(m, "ratelimits"); ok {
		k.ratelimits = readRatelimits(rls)
	}
	return k
}

var errRefillDayMissing = badRequest("`refillDay` must be provided when the refill interval is `monthly`.")

// migrateKeys is keys.migrateKeys: one transaction per request. Hashes that
// exist anywhere (any workspace, soft-deleted keys included) fail; the same
// new hash twice in a request is a 500 with nothing inserted.
func (s *Server) migrateKeys(c *call) (any, *problem) {
	migrationID, _ := strField(c.body, "migrationId")
	apiID, _ := strField(c.body, "apiId")
	if p := c.authorize(apiID); p != nil {
		return nil, p
	}
	raw, _ := arrField(c.body, "keys")
	keys := make([]newKey, len(raw))
	refillDayMissing := false
	for i, x := range raw {
		m, _ := x.(map[string]any)
		if p := checkMetaNumbers(fmt.Sprintf("body.keys[%d].meta", i), m["meta"]); p != nil {
			return nil, p
		}
		keys[i] = readNewKey(m)
		if r := keys[i].refill; r != nil && r.interval == "monthly" && r.refillDay == nil {
			refillDayMissing = true
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apis[apiID]
	if a == nil || a.deleted || a.workspace != c.rk.workspace {
		return nil, apiNotFound()
	}
	mig := s.migrations[migrationID]
	if mig == nil || mig.workspace != c.rk.workspace {
		return nil, notFound(TypeMigrationNotFound, "The requested Migration does not exist or has been deleted.")
	}
	if refillDayMissing {
		return nil, errRefillDayMissing
	}

	var failed []string // null in JSON when nothing failed, as Unkey answers
	failedSeen := map[string]bool{}
	inserting := make(map[string]bool, len(keys))
	for _, k := range keys {
		if _, taken := s.byHash[k.hash]; taken {
			if !failedSeen[k.hash] {
				failedSeen[k.hash] = true
				failed = append(failed, k.hash)
			}
			continue
		}
		if inserting[k.hash] {
			// Unkey inserts both rows with the same hash and the unique
			// index fails the transaction.
			return nil, internalError()
		}
		inserting[k.hash] = true
	}

	ws := s.workspaceLocked(c.rk.workspace)
	now := time.Now().UnixMilli()
	type migrated struct {
		Hash  string `json:"hash"`
		KeyID string `json:"keyId"`
	}
	out := make([]migrated, 0, len(keys)-len(failed))
	for _, nk := range keys {
		// Identities, roles and permissions are created for every key of
		// the request, failed ones included, as Unkey does.
		var ident *identity
		if nk.externalID != "" {
			ident = ws.identity(nk.externalID)
		}
		roles := make([]*role, 0, len(nk.roles))
		for _, r := range nk.roles {
			roles = append(roles, ws.role(r))
		}
		perms := make([]*permission, 0, len(nk.permissions))
		for _, p := range nk.permissions {
			perms = append(perms, ws.permission(p))
		}
		if failedSeen[nk.hash] {
			continue
		}
		k := &keyRec{
			id: s.newKeyIDLocked(), hash: nk.hash, apiID: a.id, workspace: a.workspace,
			migrationID: mig.id, pendingMigration: mig.id,
			name: nk.name, identity: ident, meta: nk.meta, roles: roles, permissions: perms,
			expires: nk.expires, enabled: nk.enabled, remaining: nk.remaining, createdAt: now,
		}
		if r := nk.refill; r != nil {
			amount := r.amount
			k.refillAmount = &amount
			if r.interval == "monthly" {
				k.refillDay = clonePtr(r.refillDay)
			}
		}
		for _, rl := range nk.ratelimits {
			k.ratelimits = append(k.ratelimits, &ratelimitRec{id: newID("rl"), name: rl.name, limit: rl.limit, duration: rl.duration, autoApply: rl.autoApply})
		}
		s.insertKeyLocked(k)
		out = append(out, migrated{Hash: k.hash, KeyID: k.id})
	}
	return struct {
		Migrated []migrated `json:"migrated"`
		Failed   []string   `json:"failed"`
	}{out, failed}, nil
}

// liveKeyLocked finds a key for the key endpoints: 404 when it is unknown,
// deleted or in another workspace. The caller holds s.mu.
func (s *Server) liveKeyLocked(c *call, keyID, unknownDetail string) (*keyRec, *problem) {
	k := s.keys[keyID]
	if k == nil || k.deleted || k.workspace != c.rk.workspace {
		return nil, keyNotFound(unknownDetail)
	}
	return k, nil
}

// KeyResponseData.
type keyResponse struct {
	KeyID       string              `json:"keyId"`
	Start       string              `json:"start"`
	Enabled     bool                `json:"enabled"`
	Name        string              `json:"name,omitempty"`
	Meta        json.RawMessage     `json:"meta,omitempty"`
	CreatedAt   int64               `json:"createdAt"`
	UpdatedAt   int64               `json:"updatedAt,omitempty"`
	LastUsedAt  int64               `json:"lastUsedAt,omitempty"`
	Expires     int64               `json:"expires,omitempty"`
	Permissions []string            `json:"permissions,omitempty"`
	Roles       []string            `json:"roles,omitempty"`
	Credits     *creditsResponse    `json:"credits,omitempty"`
	Identity    *identityResponse   `json:"identity,omitempty"`
	Ratelimits  []ratelimitResponse `json:"ratelimits,omitempty"`
}

type creditsResponse struct {
	Remaining int64           `json:"remaining"`
	Refill    *refillResponse `json:"refill,omitempty"`
}

type refillResponse struct {
	Interval  string `json:"interval"`
	Amount    int64  `json:"amount"`
	RefillDay int64  `json:"refillDay,omitempty"`
}

type identityResponse struct {
	ID         string          `json:"id"`
	ExternalID string          `json:"externalId"`
	Meta       json.RawMessage `json:"meta,omitempty"`
}

type ratelimitResponse struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Limit     int64  `json:"limit"`
	Duration  int64  `json:"duration"`
	AutoApply bool   `json:"autoApply"`
}

// keyResponseOf renders a key as keys.getKey and apis.listKeys do: zero
// values are omitted, credits only appear with a remaining count, and
// permissions are the key's direct permissions (roles created here carry
// none). Roles, permissions and rate limits come in a new order each time.
func (s *Server) keyResponseOf(k *keyRec) keyResponse {
	out := keyResponse{
		KeyID: k.id, Start: k.start, Enabled: k.enabled, Name: k.name,
		CreatedAt: k.createdAt, UpdatedAt: k.updatedAt, LastUsedAt: k.lastUsedAt,
	}
	if k.meta != nil && string(k.meta) != "{}" {
		out.Meta = k.meta
	}
	if k.expires != nil {
		out.Expires = *k.expires
	}
	// Direct permissions and those the key's roles grant, once each, as
	// Unkey answers them (svc/api/routes/v2_keys_get_key/handler.go,
	// v2_apis_list_keys/handler.go: "combine direct + role permissions").
	seen := map[string]bool{}
	for _, slug := range append(k.permissionSlugs(), k.rolePermissionSlugs()...) {
		if !seen[slug] {
			seen[slug] = true
			out.Permissions = append(out.Permissions, slug)
		}
	}
	for _, r := range k.roles {
		out.Roles = append(out.Roles, r.name)
	}
	if k.remaining != nil {
		out.Credits = &creditsResponse{Remaining: *k.remaining}
		if k.refillAmount != nil {
			out.Credits.Refill = &refillResponse{Interval: k.interval(), Amount: *k.refillAmount}
			if k.refillDay != nil {
				out.Credits.Refill.RefillDay = *k.refillDay
			}
		}
	}
	if k.identity != nil {
		out.Identity = &identityResponse{ID: k.identity.id, ExternalID: k.identity.externalID}
	}
	for _, r := range k.ratelimits {
		out.Ratelimits = append(out.Ratelimits, ratelimitResponse{ID: r.id, Name: r.name, Limit: r.limit, Duration: r.duration, AutoApply: r.autoApply})
	}
	shuffle(s, out.Roles)
	shuffle(s, out.Permissions)
	shuffle(s, out.Ratelimits)
	return out
}

func (s *Server) getKey(c *call) (any, *problem) {
	keyID, _ := strField(c.body, "keyId")
	decrypt, _ := boolField(c.body, "decrypt")
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, p := s.liveKeyLocked(c, keyID, "We could not find the requested key.")
	if p != nil {
		return nil, p
	}
	if p := c.authorize(k.apiID); p != nil {
		return nil, p
	}
	if decrypt {
		if p := c.authorizeAlso(decrypts, k.apiID); p != nil {
			return nil, p
		}
		return nil, precondition("The API for this key does not support key encryption.")
	}
	return s.keyResponseOf(k), nil
}

// updateKey is keys.updateKey: an omitted field is left alone, null clears
// it, a value sets it; roles and permissions replace the key's sets.
func (s *Server) updateKey(c *call) (any, *problem) {
	b := c.body
	keyID, _ := strField(b, "keyId")

	s.mu.Lock()
	defer s.mu.Unlock()
	k, p := s.liveKeyLocked(c, keyID, "We could not find the requested key.")
	if p != nil {
		return nil, p
	}
	if p := c.authorize(k.apiID); p != nil {
		return nil, p
	}
	ws := s.workspaceLocked(k.workspace)

	// Everything that can fail is checked before anything changes.
	if p := checkMetaNumbers("body.meta", b["meta"]); p != nil {
		return nil, p
	}
	var refill *refillInput
	credits, creditsSet := field(b, "credits")
	if cm, ok := credits.(map[string]any); ok {
		if rf, ok := objField(cm, "refill"); ok {
			refill = readRefill(rf)
			switch {
			case refill.interval == "monthly" && refill.refillDay == nil:
				return nil, errRefillDayMissing
			case refill.interval == "daily" && refill.refillDay != nil:
				return nil, badRequest("`refillDay` must not be provided when the refill interval is `daily`.")
			}
		}
	}
	var roles []*role
	if names, ok := arrField(b, "roles"); ok {
		roles = []*role{}
		for _, name := range dedupe(stringList(names)) {
			r := ws.roles[name]
			if r == nil {
				return nil, notFound(TypeRoleNotFound, fmt.Sprintf("Role '%s' was not found.", name))
			}
			roles = append(roles, r)
		}
	}

	if v, ok := field(b, "name"); ok {
		k.name, _ = v.(string)
	}
	if v, ok := field(b, "externalId"); ok {
		k.identity = nil
		if ext, _ := v.(string); ext != "" {
			k.identity = ws.identity(ext)
		}
	}
	if v, ok := field(b, "enabled"); ok {
		k.enabled, _ = v.(bool)
	}
	if v, ok := field(b, "meta"); ok {
		k.meta = nil
		if m, ok := v.(map[string]any); ok {
			k.meta = canonicalJSON(m)
		}
	}
	if _, ok := field(b, "expires"); ok {
		k.expires = nil
		if e, ok := intField(b, "expires"); ok {
			k.expires = &e
		}
	}
	if creditsSet {
		cm, isObj := credits.(map[string]any)
		if !isObj {
			k.remaining, k.refillAmount, k.refillDay = nil, nil, nil
		} else {
			if rv, ok := field(cm, "remaining"); ok {
				if rv == nil {
					// Unlimited; this also clears the refill.
					k.remaining, k.refillAmount, k.refillDay = nil, nil, nil
				} else {
					r, _ := intField(cm, "remaining")
					k.remaining = &r
				}
			}
			if _, ok := field(cm, "refill"); ok {
				k.refillAmount, k.refillDay = nil, nil
				if refill != nil {
					amount := refill.amount
					k.refillAmount = &amount
					k.refillDay = clonePtr(refill.refillDay)
				}
			}
		}
	}
	if v, ok := field(b, "ratelimits"); ok {
		arr, _ := v.([]any) // null (when allowed) clears them
		existing := map[string]string{}
		for _, r := range k.ratelimits {
			existing[r.name] = r.id
		}
		k.ratelimits = nil
		k.windows = nil
		for _, rl := range readRatelimits(arr) {
			id := existing[rl.name]
			if id == "" {
				id = newID("rl")
			}
			k.ratelimits = slices.DeleteFunc(k.ratelimits, func(r *ratelimitRec) bool { return r.name == rl.name })
			k.ratelimits = append(k.ratelimits, &ratelimitRec{id: id, name: rl.name, limit: rl.limit, duration: rl.duration, autoApply: rl.autoApply})
		}
	}
	if perms, ok := arrField(b, "permissions"); ok {
		k.permissions = []*permission{}
		for _, slug := range dedupe(stringList(perms)) {
			k.permissions = append(k.permissions, ws.permission(slug))
		}
	}
	if roles != nil {
		k.roles = roles
	}
	k.updatedAt = time.Now().UnixMilli()
	return struct{}{}, nil
}

type roleResponse struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// setRoles is keys.setRoles: roles are named by name or ID and must exist.
func (s *Server) setRoles(c *call) (any, *problem) {
	keyID, _ := strField(c.body, "keyId")
	names, _ := arrField(c.body, "roles")
	s.mu.Lock()
	defer s.mu.Unlock()
	k, p := s.liveKeyLocked(c, keyID, "The specified key was not found.")
	if p != nil {
		return nil, p
	}
	if p := c.authorize(k.apiID); p != nil {
		return nil, p
	}
	ws := s.workspaceLocked(k.workspace)
	roles := []*role{}
	seen := map[*role]bool{}
	for _, name := range stringList(names) {
		r := ws.roles[name] // by name only (FindManyRolesByNamesWithPerms in v2_keys_set_roles/handler.go)
		if r == nil {
			return nil, notFound(TypeRoleNotFound, fmt.Sprintf("Role '%s' was not found.", name))
		}
		if !seen[r] {
			seen[r] = true
			roles = append(roles, r)
		}
	}
	k.roles = roles
	k.updatedAt = time.Now().UnixMilli()
	out := make([]roleResponse, len(roles))
	for i, r := range roles {
		out[i] = roleResponse{ID: r.id, Name: r.name}
	}
	return out, nil
}

type permissionResponse struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// setPermissions is keys.setPermissions: permissions are named by slug
// only, and unknown slugs are created (an ID too, as a slug: Unkey looks
// them up with FindPermissionsBySlugs, v2_keys_set_permissions/handler.go).
func (s *Server) setPermissions(c *call) (any, *problem) {
	keyID, _ := strField(c.body, "keyId")
	slugs, _ := arrField(c.body, "permissions")
	s.mu.Lock()
	defer s.mu.Unlock()
	k, p := s.liveKeyLocked(c, keyID, "The specified key was not found.")
	if p != nil {
		return nil, p
	}
	if p := c.authorize(k.apiID); p != nil {
		return nil, p
	}
	ws := s.workspaceLocked(k.workspace)
	refs := stringList(slugs)
	if p := c.authorizeNewPermissions(ws, refs, k.apiID); p != nil {
		return nil, p
	}
	perms := ws.resolvePermissions(refs)
	k.permissions = perms
	k.updatedAt = time.Now().UnixMilli()
	out := make([]permissionResponse, len(perms))
	for i, perm := range perms {
		out[i] = permissionResponse{ID: perm.id, Name: perm.slug, Slug: perm.slug}
	}
	return out, nil
}

// deleteKey is keys.deleteKey: a soft delete keeps the hash taken (it can
// never be migrated again); permanent: true frees it.
func (s *Server) deleteKey(c *call) (any, *problem) {
	keyID, _ := strField(c.body, "keyId")
	permanent, _ := boolField(c.body, "permanent")
	s.mu.Lock()
	defer s.mu.Unlock()
	k, p := s.liveKeyLocked(c, keyID, "The specified key was not found.")
	if p != nil {
		return nil, p
	}
	if p := c.authorize(k.apiID); p != nil {
		return nil, p
	}
	if permanent {
		s.removeKeyLocked(k)
	} else {
		k.deleted = true
		k.updatedAt = time.Now().UnixMilli()
	}
	return struct{}{}, nil
}
