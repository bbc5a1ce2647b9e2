package unkeylocal

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// NativeHash is Unkey's stored hash of a key: standard base64 of its SHA-256.
func NativeHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func (s *Server) verifyKey(rk *rootKey, body []byte) (any, *problem) {
	var req struct {
		Key         string          `json:"key"`
		MigrationID *string         `json:"migrationId"`
		Tags        []string        `json:"tags"`
		Permissions *string         `json:"permissions"`
		Credits     *map[string]any `json:"credits"`
		Ratelimits  []any           `json:"ratelimits"`
	}
	if p := decode(body, &req); p != nil {
		return nil, p
	}
	if len(req.Key) < 1 {
		return nil, badRequest("key must not be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.byHash[NativeHash(req.Key)]
	if k == nil && req.MigrationID != nil {
		k = s.findSeamKey(*req.MigrationID, req.Key)
	}
	if k == nil || k.Deleted || k.WorkspaceID != rk.workspace {
		return map[string]any{"valid": false, "code": "NOT_FOUND"}, nil
	}
	if !rk.allows(k.APIID, "verify_key") {
		return nil, forbidden(k.APIID, "verify_key")
	}
	out := map[string]any{"keyId": k.ID, "enabled": k.Enabled}
	if k.Name != "" {
		out["name"] = k.Name
	}
	if k.Meta != nil {
		out["meta"] = k.Meta
	}
	if k.Expires != nil {
		out["expires"] = *k.Expires
	}
	code := "VALID"
	switch {
	case !k.Enabled:
		code = "DISABLED"
	case k.Expires != nil && *k.Expires <= time.Now().UnixMilli():
		code = "EXPIRED"
	case k.Credits != nil && k.Credits.Remaining != nil && *k.Credits.Remaining <= 0:
		code = "USAGE_EXCEEDED"
	}
	if code == "VALID" && k.Credits != nil && k.Credits.Remaining != nil {
		left := *k.Credits.Remaining - 1
		k.Credits.Remaining = &left
		out["credits"] = left
	}
	if code == "VALID" && k.Start == "" {
		k.Start = req.Key[:min(len(req.Key), 6)]
	}
	out["valid"], out["code"] = code == "VALID", code
	return out, nil
}

// findSeamKey looks a prefix_short_long key up the way the seamapi
// prefixed-api-key algorithm stores it (hex SHA-256 of the long token), and
// on success re-hashes it to the native format, as Unkey does.
func (s *Server) findSeamKey(migrationID, key string) *Key {
	m := s.migrations[migrationID]
	if m == nil || m.algorithm != AlgorithmSeamPrefixed {
		return nil
	}
	parts := strings.Split(key, "_")
	if len(parts) < 3 {
		return nil
	}
	sum := sha256.Sum256([]byte(parts[len(parts)-1]))
	k := s.byHash[hex.EncodeToString(sum[:])]
	if k == nil || k.MigrationID != migrationID {
		return nil
	}
	delete(s.byHash, k.Hash)
	k.Hash = NativeHash(key)
	s.byHash[k.Hash] = k
	return k
}
