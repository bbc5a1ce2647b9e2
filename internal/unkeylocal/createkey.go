package unkeylocal

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// V2KeysCreateKeyRequestBody.
func createKeySchema() *schema {
	return object(
		fld("apiId", str().length(3, 255).match(keyIDPattern)),
		fld("prefix", str().length(1, 16).match(keyIDPattern)),
		fld("name", str().length(1, 255)),
		fld("byteLength", integer().between(16, 255)),
		fld("externalId", str().length(1, 255).match(externalIDPattern)),
		fld("meta", metaObject()),
		fld("roles", rolesSchema()),
		fld("permissions", permissionsSchema(1000)),
		fld("expires", integer().between(0, maxExpires)),
		fld("credits", object( // KeyCreditsData
			fld("remaining", integer().between(0, maxInt64Schema).orNull()),
			fld("refill", refillSchema(false)),
		).req("remaining")),
		fld("ratelimits", array(ratelimitRequest()).count(-1, 50)),
		fld("enabled", boolean()),
		fld("recoverable", boolean()),
	).req("apiId")
}

// newPlaintextKey is what Unkey hands out: prefix_ then byteLength random
// bytes in base58.
func newPlaintextKey(prefix string, byteLength int64) string {
	b := make([]byte, byteLength)
	_, _ = rand.Read(b)
	n := new(big.Int).SetBytes(b)
	radix := big.NewInt(int64(len(alphabet)))
	var out []byte
	mod := new(big.Int)
	for n.Sign() > 0 {
		n.DivMod(n, radix, mod)
		out = append(out, alphabet[mod.Int64()])
	}
	if prefix != "" {
		return prefix + "_" + string(out)
	}
	return string(out)
}

// createKey is keys.createKey: Unkey makes the key and answers its plaintext
// once. Roles must exist; permissions and identities are created on the fly.
func (s *Server) createKey(c *call) (any, *problem) {
	apiID, _ := strField(c.body, "apiId")
	if p := c.authorize(apiID); p != nil {
		return nil, p
	}
	if p := checkMetaNumbers("body.meta", c.body["meta"]); p != nil {
		return nil, p
	}
	nk := readNewKey(c.body)
	prefix, _ := strField(c.body, "prefix")
	byteLength := int64(16)
	if n, ok := intField(c.body, "byteLength"); ok {
		byteLength = n
	}
	recoverable, _ := boolField(c.body, "recoverable")
	if r := nk.refill; r != nil && r.interval == "monthly" && r.refillDay == nil {
		return nil, errRefillDayMissing
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	a, p := s.liveAPILocked(c, apiID)
	if p != nil {
		return nil, p
	}
	if recoverable {
		return nil, precondition("This API does not support key encryption.")
	}
	ws := s.workspaceLocked(a.workspace)
	roles := make([]*role, 0, len(nk.roles))
	for _, name := range nk.roles {
		r := ws.roles[name] // by name only (FindRolesByNames in v2_keys_create_key/handler.go)
		if r == nil {
			return nil, notFound(TypeRoleNotFound, fmt.Sprintf("Role '%s' was not found.", name))
		}
		roles = append(roles, r)
	}
	// Unkey creates missing permissions here without checking
	// create_permission (v2_keys_create_key/handler.go authorizes create_key,
	// and encrypt_key for recoverable keys, nothing else).
	perms := ws.resolvePermissions(nk.permissions)
	plaintext := newPlaintextKey(prefix, byteLength)
	k := &keyRec{
		id: s.newKeyIDLocked(), hash: NativeHash(plaintext), apiID: a.id, workspace: a.workspace,
		start: startOf(plaintext), name: nk.name, meta: nk.meta, roles: roles, permissions: perms,
		expires: nk.expires, enabled: nk.enabled, remaining: nk.remaining, createdAt: time.Now().UnixMilli(),
	}
	if nk.externalID != "" {
		k.identity = ws.identity(nk.externalID)
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
	return struct {
		KeyID string `json:"keyId"`
		Key   string `json:"key"`
	}{k.id, plaintext}, nil
}

// startOf is the start Unkey records for a key it creates: the prefix (up to
// the last underscore) and four more characters. (Migrated keys keep "".)
func startOf(rawKey string) string {
	if i := strings.LastIndexByte(rawKey, '_'); i >= 0 {
		rest := rawKey[i+1:]
		if len(rest) > 4 {
			rest = rest[:4]
		}
		return rawKey[:i+1] + rest
	}
	if len(rawKey) > 4 {
		return rawKey[:4]
	}
	return rawKey
}
