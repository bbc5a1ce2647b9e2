package unkeylocal

import (
	"sort"
)

func (s *Server) createAPI(rk *rootKey, body []byte) (any, *problem) {
	var req struct {
		Name string `json:"name"`
	}
	if p := firstProblem(decode(body, &req), lengthBetween("name", req.Name, 3, 255)); p != nil {
		return nil, p
	}
	if !rk.allows("*", "create_api") {
		return nil, forbidden("*", "create_api")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &api{ID: s.nextID("api_"), Name: req.Name, workspace: rk.workspace}
	s.apis[a.ID] = a
	return map[string]string{"apiId": a.ID}, nil
}

func (s *Server) liveAPI(rk *rootKey, apiID, action string) (*api, *problem) {
	if p := lengthBetween("apiId", apiID, 3, 255); p != nil {
		return nil, p
	}
	if !rk.allows(apiID, action) {
		return nil, forbidden(apiID, action)
	}
	a := s.apis[apiID]
	if a == nil || a.deleted || a.workspace != rk.workspace {
		return nil, notFound("api_not_found", "The requested API does not exist or has been deleted.")
	}
	return a, nil
}

func (s *Server) getAPI(rk *rootKey, body []byte) (any, *problem) {
	var req struct {
		APIID string `json:"apiId"`
	}
	if p := decode(body, &req); p != nil {
		return nil, p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, p := s.liveAPI(rk, req.APIID, "read_api")
	if p != nil {
		return nil, p
	}
	return map[string]string{"id": a.ID, "name": a.Name}, nil
}

func (s *Server) deleteAPI(rk *rootKey, body []byte) (any, *problem) {
	var req struct {
		APIID string `json:"apiId"`
	}
	if p := decode(body, &req); p != nil {
		return nil, p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, p := s.liveAPI(rk, req.APIID, "delete_api")
	if p != nil {
		return nil, p
	}
	if a.deleteProtected {
		return nil, &problem{status: 412, title: "Precondition Failed",
			detail: "This API has delete protection enabled. Disable it before attempting to delete this API.",
			typ:    errBase + "unkey/application/protected_resource"}
	}
	a.deleted = true
	for _, k := range s.keys {
		if k.APIID == a.ID {
			k.Deleted = true // hashes stay taken, as in Unkey
		}
	}
	return map[string]any{}, nil
}

func (s *Server) listKeys(rk *rootKey, body []byte) (any, *problem) {
	var req struct {
		APIID               string  `json:"apiId"`
		Limit               *int    `json:"limit"`
		Cursor              *string `json:"cursor"`
		ExternalID          *string `json:"externalId"`
		Decrypt             *bool   `json:"decrypt"`
		RevalidateKeysCache *bool   `json:"revalidateKeysCache"`
	}
	if p := decode(body, &req); p != nil {
		return nil, p
	}
	limit := 100
	if req.Limit != nil {
		if *req.Limit < 1 || *req.Limit > 100 {
			return nil, badRequest("limit must be between 1 and 100")
		}
		limit = *req.Limit
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, p := s.liveAPI(rk, req.APIID, "read_key"); p != nil {
		return nil, p
	}
	var ids []string
	for id, k := range s.keys {
		if k.APIID == req.APIID && !k.Deleted && (req.ExternalID == nil || k.ExternalID == *req.ExternalID) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	start := 0
	if req.Cursor != nil {
		start = sort.SearchStrings(ids, *req.Cursor)
		if start < len(ids) && ids[start] == *req.Cursor {
			start++
		}
	}
	end := min(start+limit, len(ids))
	page := make([]map[string]any, 0, end-start)
	for _, id := range ids[start:end] {
		page = append(page, s.keyResponse(s.keys[id]))
	}
	// listKeys puts pagination beside data, not in it.
	return listPage{data: page, hasMore: end < len(ids), cursor: lastOf(ids[start:end])}, nil
}

type listPage struct {
	data    []map[string]any
	hasMore bool
	cursor  string
}

func lastOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}
