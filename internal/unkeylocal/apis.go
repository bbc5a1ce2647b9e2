package unkeylocal

import (
	"sort"
	"time"
)

// createAPI is apis.createApi.
func (s *Server) createAPI(c *call) (any, *problem) {
	name, _ := strField(c.body, "name")
	if p := c.authorize(""); p != nil {
		return nil, p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := newID("api")
	for s.apis[id] != nil {
		id = newID("api")
	}
	s.apis[id] = &apiRec{id: id, name: name, workspace: c.rk.workspace, keys: map[string]*keyRec{}}
	return struct {
		APIID string `json:"apiId"`
	}{id}, nil
}

// liveAPILocked finds an API of the caller's workspace. The caller holds s.mu.
func (s *Server) liveAPILocked(c *call, apiID string) (*apiRec, *problem) {
	a := s.apis[apiID]
	if a == nil || a.deleted || a.workspace != c.rk.workspace {
		return nil, apiNotFound()
	}
	return a, nil
}

// getAPI is apis.getApi. Unkey checks the permission for the API ID asked
// about before it looks the API up, so a 403 says nothing of the API's
// workspace (svc/api/routes/v2_apis_get_api/handler.go).
func (s *Server) getAPI(c *call) (any, *problem) {
	apiID, _ := strField(c.body, "apiId")
	if p := c.authorize(apiID); p != nil {
		return nil, p
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, p := s.liveAPILocked(c, apiID)
	if p != nil {
		return nil, p
	}
	return struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}{a.id, a.name}, nil
}

// deleteAPI is apis.deleteApi: the API and all its keys are soft-deleted, so
// their hashes stay taken.
func (s *Server) deleteAPI(c *call) (any, *problem) {
	apiID, _ := strField(c.body, "apiId")
	// As apis.getApi, the permission first (v2_apis_delete_api/handler.go).
	if p := c.authorize(apiID); p != nil {
		return nil, p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, p := s.liveAPILocked(c, apiID)
	if p != nil {
		return nil, p
	}
	if a.deleteProtected {
		return nil, &problem{status: 412, title: "Resource is protected", typ: TypeProtectedResource,
			detail: "This API has delete protection enabled. Disable it before attempting to delete."}
	}
	a.deleted = true
	now := time.Now().UnixMilli()
	for _, k := range a.keys {
		if !k.deleted {
			k.deleted = true
			k.updatedAt = now
		}
	}
	return struct{}{}, nil
}

// listKeys is apis.listKeys: live keys ordered by ID, from the cursor on. As
// in Unkey, the next cursor is the ID of the first key of the next page.
func (s *Server) listKeys(c *call) (any, *problem) {
	apiID, _ := strField(c.body, "apiId")
	if p := c.authorize(apiID); p != nil {
		return nil, p
	}
	limit := int64(100)
	if l, ok := intField(c.body, "limit"); ok {
		limit = l
	}
	cursor, _ := strField(c.body, "cursor")
	externalID, filter := strField(c.body, "externalId")
	decrypt, _ := boolField(c.body, "decrypt")

	s.mu.RLock()
	defer s.mu.RUnlock()
	a, p := s.liveAPILocked(c, apiID)
	if p != nil {
		return nil, p
	}
	if decrypt {
		if p := c.authorizeAlso(decrypts, a.id); p != nil {
			return nil, p
		}
		return nil, precondition("The requested API does not support key encryption.")
	}
	var ident *identity
	if filter {
		if ws := s.workspaces[a.workspace]; ws != nil {
			ident = ws.identities[externalID]
		}
		if ident == nil {
			return page{data: []keyResponse{}}, nil
		}
	}
	keys := a.sortedLiveKeys()
	start := sort.Search(len(keys), func(i int) bool { return keys[i].id >= cursor })
	data := []keyResponse{}
	next := ""
	for _, k := range keys[start:] {
		if ident != nil && k.identity != ident {
			continue
		}
		if int64(len(data)) == limit {
			next = k.id
			break
		}
		data = append(data, s.keyResponseOf(k))
	}
	return page{data: data, hasMore: next != "", cursor: next}, nil
}
