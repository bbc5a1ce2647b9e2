package unkeylocal

import (
	"encoding/json"
	"fmt"
)

// Schemas, from V2Identities*RequestBody.

// metaObject is the meta of identities and created keys: any object of at
// most 100 properties.
func metaObject() *schema {
	s := anyObject()
	s.maxProps = 100
	return s
}

func createIdentitySchema() *schema {
	return object(
		fld("externalId", str().length(1, 255).match(externalIDPattern)),
		fld("meta", metaObject()),
		fld("ratelimits", array(ratelimitRequest()).count(-1, 50)),
	).req("externalId")
}

func identityRefSchema() *schema {
	return object(fld("identity", str().length(1, -1))).req("identity")
}

func updateIdentitySchema() *schema {
	return object(
		fld("identity", str().length(1, -1)),
		fld("meta", metaObject()),
		fld("ratelimits", array(ratelimitRequest()).count(-1, 50)),
	).req("identity")
}

// identityData is Identity.
type identityData struct {
	ID         string              `json:"id"`
	ExternalID string              `json:"externalId"`
	Meta       map[string]any      `json:"meta"`
	Ratelimits []ratelimitResponse `json:"ratelimits"`
}

// identityData renders an identity; its rate limits come in a new order
// each time, as Unkey promises none, and meta numbers went through float64.
func (s *Server) identityData(id *identity) identityData {
	out := identityData{ID: id.id, ExternalID: id.externalID, Meta: map[string]any{}, Ratelimits: []ratelimitResponse{}}
	if id.meta != nil {
		_ = json.Unmarshal(id.meta, &out.Meta)
	}
	for _, r := range id.ratelimits {
		out.Ratelimits = append(out.Ratelimits, ratelimitResponse{ID: r.id, Name: r.name, Limit: r.limit, Duration: r.duration, AutoApply: r.autoApply})
	}
	shuffle(s, out.Ratelimits)
	return out
}

func identityNotFound(ref string) *problem {
	return notFound(TypeIdentityNotFound, fmt.Sprintf("Identity '%s' does not exist.", ref))
}

// identityByRef finds an identity by external ID or identity ID.
func (ws *workspace) identityByRef(ref string) *identity {
	if id := ws.identities[ref]; id != nil {
		return id
	}
	for _, id := range ws.identities {
		if id.id == ref {
			return id
		}
	}
	return nil
}

// setRatelimits replaces an identity's rate limits, keeping the IDs of the
// names it already had.
func (id *identity) setRatelimits(in []ratelimitInput) {
	existing := map[string]string{}
	for _, r := range id.ratelimits {
		existing[r.name] = r.id
	}
	id.ratelimits = nil
	for _, rl := range in {
		rid := existing[rl.name]
		if rid == "" {
			rid = newID("rl")
		}
		id.ratelimits = append(id.ratelimits, &ratelimitRec{id: rid, name: rl.name, limit: rl.limit, duration: rl.duration, autoApply: rl.autoApply})
	}
}

// createIdentity is identities.createIdentity: external IDs are unique in a
// workspace, including the identities keys.migrateKeys created on the fly.
func (s *Server) createIdentity(c *call) (any, *problem) {
	if p := c.authorize(""); p != nil {
		return nil, p
	}
	externalID, _ := strField(c.body, "externalId")
	if p := checkMetaNumbers("body.meta", c.body["meta"]); p != nil {
		return nil, p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.workspaceLocked(c.rk.workspace)
	if ws.identities[externalID] != nil {
		return nil, conflict(TypeIdentityAlreadyExists, fmt.Sprintf("Identity with externalId \"%s\" already exists in this workspace.", externalID))
	}
	id := ws.identity(externalID)
	if meta, ok := objField(c.body, "meta"); ok {
		id.meta = canonicalJSON(meta)
	}
	if rls, ok := arrField(c.body, "ratelimits"); ok {
		id.setRatelimits(readRatelimits(rls))
	}
	return struct {
		IdentityID string `json:"identityId"`
	}{id.id}, nil
}

// getIdentity is identities.getIdentity, by external ID or identity ID. It
// looks the identity up before it checks read_identity, unlike the other
// identity endpoints (v2_identities_get_identity/handler.go): a missing one
// is a 404 whatever the root key holds.
func (s *Server) getIdentity(c *call) (any, *problem) {
	ref, _ := strField(c.body, "identity")
	s.mu.RLock()
	defer s.mu.RUnlock()
	id := s.workspaces[c.rk.workspace].identityByRef(ref)
	if id == nil {
		return nil, identityNotFound(ref)
	}
	if p := c.authorize(""); p != nil {
		return nil, p
	}
	return s.identityData(id), nil
}

// updateIdentity is identities.updateIdentity: an omitted field is kept, a
// given one replaces what was there ({} and [] clear).
func (s *Server) updateIdentity(c *call) (any, *problem) {
	if p := c.authorize(""); p != nil {
		return nil, p
	}
	ref, _ := strField(c.body, "identity")
	if p := checkMetaNumbers("body.meta", c.body["meta"]); p != nil {
		return nil, p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.workspaceLocked(c.rk.workspace).identityByRef(ref)
	if id == nil {
		return nil, identityNotFound(ref)
	}
	if meta, ok := objField(c.body, "meta"); ok {
		id.meta = nil
		if len(meta) > 0 {
			id.meta = canonicalJSON(meta)
		}
	}
	if rls, ok := arrField(c.body, "ratelimits"); ok {
		id.setRatelimits(readRatelimits(rls))
	}
	return s.identityData(id), nil
}

// deleteIdentity is identities.deleteIdentity: its keys stay, without an
// owner.
func (s *Server) deleteIdentity(c *call) (any, *problem) {
	if p := c.authorize(""); p != nil {
		return nil, p
	}
	ref, _ := strField(c.body, "identity")
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.workspaceLocked(c.rk.workspace)
	id := ws.identityByRef(ref)
	if id == nil {
		return nil, identityNotFound(ref)
	}
	delete(ws.identities, id.externalID)
	for _, k := range s.keys {
		if k.identity == id {
			k.identity = nil
		}
	}
	return struct{}{}, nil
}
