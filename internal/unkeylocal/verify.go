package unkeylocal

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// NativeHash is Unkey's own hash of a key, the sha256 migration format:
// standard base64 (padded) of the SHA-256 of the whole key.
func NativeHash(rawKey string) string {
	sum := sha256.Sum256([]byte(rawKey))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// SeamHash is the hash the github.com/seamapi/prefixed-api-key algorithm
// stores for a prefix_short_long key: hex SHA-256 of the long token.
func SeamHash(rawKey string) (string, error) {
	parts := strings.Split(rawKey, "_")
	if len(parts) < 3 {
		return "", fmt.Errorf("expected at least 3 segments, got %d", len(parts))
	}
	sum := sha256.Sum256([]byte(parts[len(parts)-1]))
	return hex.EncodeToString(sum[:]), nil
}

// The verification codes of V2KeysVerifyKeyResponseData.
const (
	CodeValid                   = "VALID"
	CodeNotFound                = "NOT_FOUND"
	CodeForbidden               = "FORBIDDEN"
	CodeInsufficientPermissions = "INSUFFICIENT_PERMISSIONS"
	CodeUsageExceeded           = "USAGE_EXCEEDED"
	CodeRateLimited             = "RATE_LIMITED"
	CodeDisabled                = "DISABLED"
	CodeExpired                 = "EXPIRED"
)

type verifyResponse struct {
	Valid       bool                  `json:"valid"`
	Code        string                `json:"code"`
	KeyID       string                `json:"keyId,omitempty"`
	Name        string                `json:"name,omitempty"`
	Meta        json.RawMessage       `json:"meta,omitempty"`
	Expires     int64                 `json:"expires,omitempty"`
	Credits     *int64                `json:"credits,omitempty"`
	Enabled     *bool                 `json:"enabled,omitempty"`
	Permissions []string              `json:"permissions,omitempty"`
	Roles       []string              `json:"roles,omitempty"`
	Identity    *identityResponse     `json:"identity,omitempty"`
	Ratelimits  []verifyRatelimitData `json:"ratelimits,omitempty"`
}

type verifyRatelimitData struct {
	Exceeded  bool   `json:"exceeded"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	Limit     int64  `json:"limit"`
	Duration  int64  `json:"duration"`
	Reset     int64  `json:"reset"`
	Remaining int64  `json:"remaining"`
	AutoApply bool   `json:"autoApply"`
}

var notFoundAnswer = verifyResponse{Valid: false, Code: CodeNotFound}

// verifyKey is keys.verifyKey: always 200 (with code) once the request is
// valid. A root key that may not verify the key's API gets NOT_FOUND, as
// for a key that does not exist.
func (s *Server) verifyKey(c *call) (any, *problem) {
	rawKey, _ := strField(c.body, "key")
	migrationID, withMigration := strField(c.body, "migrationId")
	query, hasQuery := strField(c.body, "permissions")
	var perms *permQuery
	if hasQuery {
		q, err := parsePermQuery(query)
		if err != nil {
			return nil, &problem{status: 400, title: "Bad Request", typ: TypePermissionsQuerySyntax,
				detail: "Syntax error in permission query: " + err.Error()}
		}
		perms = q
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.byHash[NativeHash(rawKey)]
	if (k == nil || k.deleted) && withMigration {
		var p *problem
		k, p = s.findMigratedLocked(c, rawKey, migrationID)
		if p != nil {
			return nil, p
		}
	}
	if k == nil || k.workspace != c.rk.workspace {
		return notFoundAnswer, nil
	}
	if k.deleted || s.apis[k.apiID] == nil || s.apis[k.apiID].deleted {
		return notFoundAnswer, nil
	}
	if !c.allowed(k.apiID) {
		// A permission error would tell that the key exists.
		return notFoundAnswer, nil
	}

	now := time.Now()
	code := CodeValid
	switch {
	case !k.enabled:
		code = CodeDisabled
	case k.expires != nil && now.UnixMilli() > *k.expires:
		code = CodeExpired
	}
	if code == CodeValid && perms != nil && !perms.eval(k.permissionSet()) {
		code = CodeInsufficientPermissions
	}
	var rlData []verifyRatelimitData
	if code == CodeValid {
		var exceeded bool
		rlData, exceeded = k.applyRatelimits(c.body, now)
		if exceeded {
			code = CodeRateLimited
		}
	}
	if code == CodeValid && k.remaining != nil {
		cost := int64(1)
		if cm, ok := objField(c.body, "credits"); ok {
			cost, _ = intField(cm, "cost")
		}
		if *k.remaining < cost {
			code = CodeUsageExceeded
		} else {
			left := *k.remaining - cost
			k.remaining = &left
		}
	}
	if code == CodeValid {
		// A migrated key's start stays "" on Unkey, verified or not.
		k.lastUsedAt = now.UnixMilli()
	}

	enabled := k.enabled
	out := verifyResponse{
		Valid: code == CodeValid, Code: code, KeyID: k.id, Name: k.name, Enabled: &enabled,
		Credits: clonePtr(k.remaining), Ratelimits: rlData,
	}
	if k.meta != nil && string(k.meta) != "{}" {
		out.Meta = k.meta
	}
	if k.expires != nil {
		out.Expires = *k.expires
	}
	for p := range k.permissionSet() {
		out.Permissions = append(out.Permissions, p)
	}
	sort.Strings(out.Permissions)
	for _, r := range k.roles {
		out.Roles = append(out.Roles, r.name)
	}
	if k.identity != nil {
		out.Identity = &identityResponse{ID: k.identity.id, ExternalID: k.identity.externalID, Meta: k.identity.meta}
	}
	shuffle(s, out.Roles)
	shuffle(s, out.Permissions)
	shuffle(s, out.Ratelimits)
	return out, nil
}

// findMigratedLocked looks a key up the way its migration hashed it and, on
// success, re-hashes it to Unkey's native format (as the real server does on
// the first verification). The caller holds s.mu.
func (s *Server) findMigratedLocked(c *call, rawKey, migrationID string) (*keyRec, *problem) {
	mig := s.migrations[migrationID]
	if mig == nil || mig.workspace != c.rk.workspace {
		return nil, nil
	}
	if mig.algorithm != AlgorithmSeamPrefixed {
		// A sha256 key not found natively does not exist.
		return nil, nil
	}
	h, err := SeamHash(rawKey)
	if err != nil {
		return nil, &problem{status: 400, title: "Bad Request", detail: "Invalid key format", typ: TypeAuthMalformed}
	}
	k := s.byHash[h]
	if k == nil || k.deleted || k.workspace != c.rk.workspace || !c.allowed(k.apiID) {
		return nil, nil
	}
	if k.pendingMigration == migrationID {
		native := NativeHash(rawKey)
		if other := s.byHash[native]; other != nil && other != k {
			return nil, internalError() // unique index on the hash
		}
		delete(s.byHash, k.hash)
		k.hash = native
		s.byHash[native] = k
		k.pendingMigration = ""
		k.updatedAt = time.Now().UnixMilli()
	}
	return k, nil
}

func (k *keyRec) permissionSet() map[string]bool {
	set := make(map[string]bool, len(k.permissions))
	for _, p := range k.permissions {
		set[p.slug] = true
	}
	for _, slug := range k.rolePermissionSlugs() { // what its roles grant
		set[slug] = true
	}
	return set
}

// applyRatelimits checks the key's auto-applied rate limits, or the ones the
// request names, in fixed windows.
func (k *keyRec) applyRatelimits(body map[string]any, now time.Time) ([]verifyRatelimitData, bool) {
	type check struct {
		rl                    *ratelimitRec
		cost, limit, duration int64
	}
	var checks []check
	if reqs, ok := arrField(body, "ratelimits"); ok {
		for _, x := range reqs {
			m, _ := x.(map[string]any)
			name, _ := strField(m, "name")
			var rl *ratelimitRec
			for _, r := range k.ratelimits {
				if r.name == name {
					rl = r
				}
			}
			if rl == nil {
				continue
			}
			ch := check{rl: rl, cost: 1, limit: rl.limit, duration: rl.duration}
			if v, ok := intField(m, "cost"); ok {
				ch.cost = v
			}
			if v, ok := intField(m, "limit"); ok {
				ch.limit = v
			}
			if v, ok := intField(m, "duration"); ok && v > 0 {
				ch.duration = v
			}
			checks = append(checks, ch)
		}
	} else {
		for _, r := range k.ratelimits {
			if r.autoApply {
				checks = append(checks, check{rl: r, cost: 1, limit: r.limit, duration: r.duration})
			}
		}
	}
	if len(checks) == 0 {
		return nil, false
	}
	if k.windows == nil {
		k.windows = map[string]*rlWindow{}
	}
	var out []verifyRatelimitData
	exceededAny := false
	for _, ch := range checks {
		d := time.Duration(ch.duration) * time.Millisecond
		start := now.Truncate(d)
		w := k.windows[ch.rl.name]
		if w == nil || !w.start.Equal(start) {
			w = &rlWindow{start: start}
			k.windows[ch.rl.name] = w
		}
		exceeded := w.used+ch.cost > ch.limit
		if !exceeded {
			w.used += ch.cost
		}
		exceededAny = exceededAny || exceeded
		out = append(out, verifyRatelimitData{
			Exceeded: exceeded, ID: ch.rl.id, Name: ch.rl.name, Limit: ch.limit, Duration: ch.duration,
			Reset: start.Add(d).UnixMilli(), Remaining: max(ch.limit-w.used, 0), AutoApply: ch.rl.autoApply,
		})
	}
	return out, exceededAny
}

// permQuery is a parsed verifyKey permissions query: names joined with AND
// and OR (AND binds tighter) and parentheses. Names match literally.
type permQuery struct {
	name     string
	op       string // "AND", "OR" or "" for a name
	children []*permQuery
}

func (q *permQuery) eval(have map[string]bool) bool {
	switch q.op {
	case "AND":
		for _, c := range q.children {
			if !c.eval(have) {
				return false
			}
		}
		return true
	case "OR":
		for _, c := range q.children {
			if c.eval(have) {
				return true
			}
		}
		return false
	}
	return have[q.name]
}

func parsePermQuery(s string) (*permQuery, error) {
	toks, err := lexPermQuery(s)
	if err != nil {
		return nil, err
	}
	p := &permParser{toks: toks}
	q, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected token '%s' at position %d", p.toks[p.pos].text, p.toks[p.pos].at)
	}
	return q, nil
}

type permToken struct {
	text string
	at   int
}

func lexPermQuery(s string) ([]permToken, error) {
	var toks []permToken
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n':
			i++
		case ch == '(' || ch == ')':
			toks = append(toks, permToken{string(ch), i})
			i++
		case isPermChar(ch):
			j := i
			for j < len(s) && isPermChar(s[j]) {
				j++
			}
			toks = append(toks, permToken{s[i:j], i})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character '%c' at position %d", ch, i)
		}
	}
	if len(toks) == 0 {
		return nil, errors.New("empty query")
	}
	return toks, nil
}

func isPermChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-:*/", c) >= 0
}

type permParser struct {
	toks []permToken
	pos  int
}

func (p *permParser) peekOp(op string) bool {
	return p.pos < len(p.toks) && strings.EqualFold(p.toks[p.pos].text, op)
}

func (p *permParser) or() (*permQuery, error) {
	return p.binary("OR", p.and)
}

func (p *permParser) and() (*permQuery, error) {
	return p.binary("AND", p.primary)
}

func (p *permParser) binary(op string, next func() (*permQuery, error)) (*permQuery, error) {
	first, err := next()
	if err != nil {
		return nil, err
	}
	children := []*permQuery{first}
	for p.peekOp(op) {
		p.pos++
		c, err := next()
		if err != nil {
			return nil, err
		}
		children = append(children, c)
	}
	if len(children) == 1 {
		return first, nil
	}
	return &permQuery{op: op, children: children}, nil
}

func (p *permParser) primary() (*permQuery, error) {
	if p.pos >= len(p.toks) {
		return nil, errors.New("unexpected end of query: expected permission name or opening parenthesis")
	}
	t := p.toks[p.pos]
	switch {
	case t.text == "(":
		p.pos++
		q, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].text != ")" {
			return nil, fmt.Errorf("missing closing parenthesis for '(' at position %d", t.at)
		}
		p.pos++
		return q, nil
	case t.text == ")" || strings.EqualFold(t.text, "AND") || strings.EqualFold(t.text, "OR"):
		return nil, fmt.Errorf("unexpected token '%s' at position %d. Expected permission name or opening parenthesis", t.text, t.at)
	}
	p.pos++
	return &permQuery{name: t.text}, nil
}
