package unkeylocal

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Key is a stored key.
type Key struct {
	ID, Hash, APIID, WorkspaceID, MigrationID string
	Name, ExternalID                          string
	Meta                                      map[string]any
	Roles, Permissions                        []string
	Expires                                   *int64
	Enabled                                   bool
	Credits                                   *Credits
	Ratelimits                                []Ratelimit
	Deleted                                   bool
	CreatedAt, UpdatedAt                      int64
	Start                                     string
}

// Credits are a key's usage credits.
type Credits struct {
	Remaining *int64  `json:"remaining"`
	Refill    *Refill `json:"refill,omitempty"`
}

// Refill says how credits refill.
type Refill struct {
	Interval  string `json:"interval"`
	Amount    int64  `json:"amount"`
	RefillDay *int64 `json:"refillDay,omitempty"`
}

// Ratelimit is one of a key's rate limits.
type Ratelimit struct {
	ID        string `json:"id,omitempty"`
	Name      string `json:"name"`
	Limit     int64  `json:"limit"`
	Duration  int64  `json:"duration"`
	AutoApply *bool  `json:"autoApply"`
}

func (k Key) clone() Key {
	c := k
	c.Roles = slices.Clone(k.Roles)
	c.Permissions = slices.Clone(k.Permissions)
	c.Ratelimits = slices.Clone(k.Ratelimits)
	return c
}

type migrateKeyData struct {
	Hash        string         `json:"hash"`
	Name        *string        `json:"name"`
	ExternalID  *string        `json:"externalId"`
	Meta        map[string]any `json:"meta"`
	Roles       []string       `json:"roles"`
	Permissions []string       `json:"permissions"`
	Expires     *int64         `json:"expires"`
	Enabled     *bool          `json:"enabled"`
	Credits     *Credits       `json:"credits"`
	Ratelimits  []Ratelimit    `json:"ratelimits"`
}

var permissionPattern = regexp.MustCompile(`^[a-zA-Z0-9_:\-\.\*]+$`)

const maxExpires = 4102444800000

func validateKeyData(loc string, k migrateKeyData) *problem {
	check := func(ok bool, field, msg string) *problem {
		if ok {
			return nil
		}
		return badRequest(fmt.Sprintf("%s.%s %s", loc, field, msg), fieldError{Location: "body." + loc + "." + field, Message: msg})
	}
	checks := []*problem{
		check(len(k.Hash) >= 3, "hash", "length must be >= 3"),
		check(k.Name == nil || (len(*k.Name) >= 1 && len(*k.Name) <= 255), "name", "length must be between 1 and 255"),
		check(k.ExternalID == nil || (len(*k.ExternalID) >= 1 && len(*k.ExternalID) <= 255), "externalId", "length must be between 1 and 255"),
		check(len(k.Meta) <= 100, "meta", "maxProperties is 100"),
		check(len(k.Roles) <= 100, "roles", "maxItems is 100"),
		check(len(k.Permissions) <= 1000, "permissions", "maxItems is 1000"),
		check(k.Expires == nil || (*k.Expires >= 0 && *k.Expires <= maxExpires), "expires", "must be between 0 and 4102444800000"),
		check(len(k.Ratelimits) <= 50, "ratelimits", "maxItems is 50"),
	}
	for _, r := range k.Roles {
		checks = append(checks, check(len(r) >= 1 && len(r) <= 128, "roles", "items must be 1 to 128 characters"))
	}
	for _, p := range k.Permissions {
		checks = append(checks, check(len(p) >= 1 && len(p) <= 128 && permissionPattern.MatchString(p), "permissions", "items must match ^[a-zA-Z0-9_:\\-\\.\\*]+$ and be 1 to 128 characters"))
	}
	checks = append(checks, validateCredits(loc, k.Credits), validateRatelimits(loc, k.Ratelimits))
	for _, p := range checks {
		if p != nil {
			return p
		}
	}
	return nil
}

func validateCredits(loc string, c *Credits) *problem {
	if c == nil {
		return nil
	}
	if c.Remaining != nil && *c.Remaining < 0 {
		return badRequest(loc + ".credits.remaining must be >= 0")
	}
	if r := c.Refill; r != nil {
		switch {
		case r.Interval != "daily" && r.Interval != "monthly":
			return badRequest(loc + ".credits.refill.interval must be one of daily, monthly")
		case r.Amount < 1:
			return badRequest(loc + ".credits.refill.amount must be >= 1")
		case r.Interval == "monthly" && r.RefillDay == nil:
			return badRequest(loc + ".credits.refill.refillDay is required when interval is monthly")
		case r.Interval == "daily" && r.RefillDay != nil:
			return badRequest(loc + ".credits.refill.refillDay is only allowed when interval is monthly")
		case r.RefillDay != nil && (*r.RefillDay < 1 || *r.RefillDay > 31):
			return badRequest(loc + ".credits.refill.refillDay must be between 1 and 31")
		}
	}
	return nil
}

func validateRatelimits(loc string, rls []Ratelimit) *problem {
	for i, r := range rls {
		at := fmt.Sprintf("%s.ratelimits[%d]", loc, i)
		switch {
		case len(r.Name) < 3 || len(r.Name) > 128:
			return badRequest(at + ".name length must be between 3 and 128")
		case r.Limit < 1:
			return badRequest(at + ".limit must be >= 1")
		case r.Duration < 1000:
			return badRequest(at + ".duration must be >= 1000")
		case r.AutoApply == nil:
			return badRequest(at + ".autoApply is required")
		}
	}
	return nil
}

func lengthBetween(name, v string, lo, hi int) *problem {
	if len(v) < lo || len(v) > hi {
		return badRequest(fmt.Sprintf("%s length must be between %d and %d", name, lo, hi), fieldError{Location: "body." + name, Message: fmt.Sprintf("length must be between %d and %d", lo, hi)})
	}
	return nil
}

func (s *Server) migrateKeys(rk *rootKey, body []byte) (any, *problem) {
	var req struct {
		MigrationID string           `json:"migrationId"`
		APIID       string           `json:"apiId"`
		Keys        []migrateKeyData `json:"keys"`
	}
	if p := decode(body, &req); p != nil {
		return nil, p
	}
	if p := firstProblem(lengthBetween("migrationId", req.MigrationID, 3, 255), lengthBetween("apiId", req.APIID, 3, 255)); p != nil {
		return nil, p
	}
	if len(req.Keys) == 0 {
		return nil, badRequest("keys must have at least 1 item")
	}
	for i, k := range req.Keys {
		if p := validateKeyData(fmt.Sprintf("keys[%d]", i), k); p != nil {
			return nil, p
		}
	}
	if !rk.allows(req.APIID, "create_key") {
		return nil, forbidden(req.APIID, "create_key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apis[req.APIID]
	if a == nil || a.deleted || a.workspace != rk.workspace {
		return nil, notFound("api_not_found", "The requested API does not exist or has been deleted.")
	}
	m := s.migrations[req.MigrationID]
	if m == nil || m.workspace != rk.workspace {
		return nil, notFound("migration_not_found", "The requested migration does not exist.")
	}
	// One transaction: a repeated hash fails the whole request, as in Unkey.
	seen := make(map[string]bool, len(req.Keys))
	for _, k := range req.Keys {
		if seen[k.Hash] {
			return nil, internalError()
		}
		seen[k.Hash] = true
	}
	migrated := make([]map[string]string, 0, len(req.Keys))
	var failed []string
	now := time.Now().UnixMilli()
	for _, k := range req.Keys {
		if _, exists := s.byHash[k.Hash]; exists {
			failed = append(failed, k.Hash)
			continue
		}
		key := &Key{
			ID: s.nextID("key_"), Hash: k.Hash, APIID: a.ID, WorkspaceID: rk.workspace, MigrationID: req.MigrationID,
			Meta: k.Meta, Roles: k.Roles, Permissions: k.Permissions, Expires: k.Expires, Enabled: k.Enabled == nil || *k.Enabled,
			Credits: k.Credits, Ratelimits: k.Ratelimits, CreatedAt: now,
		}
		if k.Name != nil {
			key.Name = *k.Name
		}
		if k.ExternalID != nil {
			key.ExternalID = *k.ExternalID
			s.identity(rk.workspace, key.ExternalID)
		}
		s.assignRatelimitIDs(key)
		s.keys[key.ID] = key
		s.byHash[key.Hash] = key
		migrated = append(migrated, map[string]string{"hash": key.Hash, "keyId": key.ID})
	}
	// failed is null, not [], when nothing failed: the real server does this.
	return map[string]any{"migrated": migrated, "failed": failed}, nil
}

func firstProblem(ps ...*problem) *problem {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}

func (s *Server) identity(workspace, externalID string) string {
	k := workspace + "/" + externalID
	if id, ok := s.identities[k]; ok {
		return id
	}
	id := s.nextID("id_")
	s.identities[k] = id
	return id
}

func (s *Server) assignRatelimitIDs(k *Key) {
	for i := range k.Ratelimits {
		if k.Ratelimits[i].ID == "" {
			k.Ratelimits[i].ID = s.nextID("rl_")
		}
	}
}

// liveKey finds a key the root key may act on, or the right error. The
// caller holds s.mu.
func (s *Server) liveKey(rk *rootKey, keyID, action string) (*Key, *problem) {
	k := s.keys[keyID]
	if k == nil || k.Deleted || k.WorkspaceID != rk.workspace {
		return nil, notFound("key_not_found", "The specified key was not found.")
	}
	if !rk.allows(k.APIID, action) {
		return nil, forbidden(k.APIID, action)
	}
	return k, nil
}

func validKeyID(id string) *problem { return lengthBetween("keyId", id, 3, 255) }

func (s *Server) getKey(rk *rootKey, body []byte) (any, *problem) {
	var req struct {
		KeyID   string `json:"keyId"`
		Decrypt *bool  `json:"decrypt"`
	}
	if p := firstProblem(decode(body, &req), validKeyID(req.KeyID)); p != nil {
		return nil, p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, p := s.liveKey(rk, req.KeyID, "read_key")
	if p != nil {
		return nil, p
	}
	return s.keyResponse(k), nil
}

func (s *Server) keyResponse(k *Key) map[string]any {
	out := map[string]any{"keyId": k.ID, "start": k.Start, "enabled": k.Enabled, "createdAt": k.CreatedAt}
	if k.Name != "" {
		out["name"] = k.Name
	}
	if k.Meta != nil {
		out["meta"] = k.Meta
	}
	if k.UpdatedAt != 0 {
		out["updatedAt"] = k.UpdatedAt
	}
	if k.Expires != nil {
		out["expires"] = *k.Expires
	}
	if len(k.Roles) > 0 {
		out["roles"] = k.Roles
	}
	if len(k.Permissions) > 0 {
		out["permissions"] = k.Permissions
	}
	if k.Credits != nil {
		out["credits"] = k.Credits
	}
	if k.ExternalID != "" {
		out["identity"] = map[string]any{"id": s.identity(k.WorkspaceID, k.ExternalID), "externalId": k.ExternalID}
	}
	if len(k.Ratelimits) > 0 {
		rls := make([]map[string]any, len(k.Ratelimits))
		for i, r := range k.Ratelimits {
			rls[i] = map[string]any{"id": r.ID, "name": r.Name, "limit": r.Limit, "duration": r.Duration, "autoApply": r.AutoApply != nil && *r.AutoApply}
		}
		out["ratelimits"] = rls
	}
	return out
}

func (s *Server) updateKey(rk *rootKey, body []byte) (any, *problem) {
	// Omitted means unchanged and null means cleared, so fields are read raw.
	var raw map[string]json.RawMessage
	if p := decode(body, &raw); p != nil {
		return nil, p
	}
	var req struct {
		KeyID       string          `json:"keyId"`
		Name        json.RawMessage `json:"name"`
		ExternalID  json.RawMessage `json:"externalId"`
		Meta        json.RawMessage `json:"meta"`
		Expires     json.RawMessage `json:"expires"`
		Credits     json.RawMessage `json:"credits"`
		Ratelimits  json.RawMessage `json:"ratelimits"`
		Enabled     *bool           `json:"enabled"`
		Roles       []string        `json:"roles"`
		Permissions []string        `json:"permissions"`
	}
	if p := firstProblem(decode(body, &req), validKeyID(req.KeyID)); p != nil {
		return nil, p
	}
	var upd migrateKeyData
	upd.Hash = "---"
	set := func(field string, dst any) *problem {
		v, present := raw[field]
		if !present || string(v) == "null" {
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return badRequest(field + " has the wrong type")
		}
		return nil
	}
	if p := firstProblem(set("name", &upd.Name), set("externalId", &upd.ExternalID), set("meta", &upd.Meta), set("expires", &upd.Expires),
		set("credits", &upd.Credits), set("ratelimits", &upd.Ratelimits)); p != nil {
		return nil, p
	}
	upd.Roles, upd.Permissions = req.Roles, req.Permissions
	if p := validateKeyData("body", upd); p != nil {
		return nil, p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, p := s.liveKey(rk, req.KeyID, "update_key")
	if p != nil {
		return nil, p
	}
	_, has := raw["name"]
	if has {
		k.Name = deref(upd.Name)
	}
	if _, has = raw["externalId"]; has {
		k.ExternalID = deref(upd.ExternalID)
		if k.ExternalID != "" {
			s.identity(k.WorkspaceID, k.ExternalID)
		}
	}
	if _, has = raw["meta"]; has {
		k.Meta = upd.Meta
	}
	if _, has = raw["expires"]; has {
		k.Expires = upd.Expires
	}
	if _, has = raw["credits"]; has {
		k.Credits = upd.Credits
	}
	if _, has = raw["ratelimits"]; has {
		k.Ratelimits = upd.Ratelimits
		s.assignRatelimitIDs(k)
	}
	if req.Enabled != nil {
		k.Enabled = *req.Enabled
	}
	if req.Roles != nil {
		k.Roles = req.Roles
	}
	if req.Permissions != nil {
		k.Permissions = req.Permissions
	}
	k.UpdatedAt = time.Now().UnixMilli()
	return map[string]any{}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (s *Server) setRoles(rk *rootKey, body []byte) (any, *problem) {
	var req struct {
		KeyID string   `json:"keyId"`
		Roles []string `json:"roles"`
	}
	if p := firstProblem(decode(body, &req), validKeyID(req.KeyID)); p != nil {
		return nil, p
	}
	if req.Roles == nil {
		return nil, badRequest("roles is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, p := s.liveKey(rk, req.KeyID, "update_key")
	if p != nil {
		return nil, p
	}
	k.Roles = slices.Clone(req.Roles)
	out := make([]map[string]string, len(k.Roles))
	for i, r := range k.Roles {
		out[i] = map[string]string{"id": "role_" + r, "name": r}
	}
	return out, nil
}

func (s *Server) setPermissions(rk *rootKey, body []byte) (any, *problem) {
	var req struct {
		KeyID       string   `json:"keyId"`
		Permissions []string `json:"permissions"`
	}
	if p := firstProblem(decode(body, &req), validKeyID(req.KeyID)); p != nil {
		return nil, p
	}
	if req.Permissions == nil {
		return nil, badRequest("permissions is required")
	}
	for _, p := range req.Permissions {
		if !permissionPattern.MatchString(p) || len(p) > 128 {
			return nil, badRequest("permissions items must match ^[a-zA-Z0-9_:\\-\\.\\*]+$")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, p := s.liveKey(rk, req.KeyID, "update_key")
	if p != nil {
		return nil, p
	}
	k.Permissions = slices.Clone(req.Permissions)
	out := make([]map[string]string, len(k.Permissions))
	for i, p := range k.Permissions {
		out[i] = map[string]string{"id": "perm_" + p, "name": p, "slug": p}
	}
	return out, nil
}

func (s *Server) deleteKey(rk *rootKey, body []byte) (any, *problem) {
	var req struct {
		KeyID     string `json:"keyId"`
		Permanent *bool  `json:"permanent"`
	}
	if p := firstProblem(decode(body, &req), validKeyID(req.KeyID)); p != nil {
		return nil, p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, p := s.liveKey(rk, req.KeyID, "delete_key")
	if p != nil {
		return nil, p
	}
	if req.Permanent != nil && *req.Permanent {
		delete(s.keys, k.ID)
		delete(s.byHash, k.Hash)
	} else {
		k.Deleted = true // the hash stays taken
	}
	return map[string]any{}, nil
}
