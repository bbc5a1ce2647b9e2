package unkeylocal

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// The in-memory data. Every field of these records is guarded by Server.mu.

type workspace struct {
	id          string
	identities  map[string]*identity   // by external ID
	roles       map[string]*role       // by name
	rolesByID   map[string]*role       //
	permissions map[string]*permission // by slug

	rateLimit   int       // requests per minute; 0 = unlimited
	windowStart time.Time // the current fixed one-minute window
	windowCount int
}

type identity struct {
	id, externalID string
	meta           json.RawMessage // nil = none; canonical JSON otherwise
	ratelimits     []*ratelimitRec // shared by the identity's keys
}

type role struct {
	id, name, description string
	permissions           []*permission
}

type permission struct{ id, slug, name, description string }

type rootKey struct {
	workspace   string
	permissions map[string]bool
	next        *rootKey // a change not seen yet: it takes over after one request
}

type apiRec struct {
	id, name, workspace string
	deleteProtected     bool
	deleted             bool
	keys                map[string]*keyRec // live and soft-deleted keys, by ID
}

type migrationRec struct {
	id, workspace, algorithm string
}

type keyRec struct {
	id, hash, apiID, workspace string
	migrationID                string // the migration the key came in with
	pendingMigration           string // cleared once the key is re-hashed on verification
	start                      string
	name                       string // "" = none
	identity                   *identity
	meta                       json.RawMessage // nil = none; canonical JSON otherwise
	roles                      []*role
	permissions                []*permission
	expires                    *int64
	enabled                    bool
	remaining                  *int64 // nil = unlimited
	refillAmount               *int64 // nil = no refill
	refillDay                  *int64 // set for monthly refills only
	ratelimits                 []*ratelimitRec
	createdAt, updatedAt       int64
	lastUsedAt                 int64
	deleted                    bool

	windows map[string]*rlWindow // verifyKey rate limit windows, by name
}

type ratelimitRec struct {
	id, name        string
	limit, duration int64
	autoApply       bool
}

type rlWindow struct {
	start time.Time
	used  int64
}

// Key is a stored key, as the inspection helpers return it (a copy).
type Key struct {
	ID, Hash, APIID, WorkspaceID string
	// MigrationID is the migration the key was migrated with;
	// PendingMigrationID is cleared when verifyKey re-hashes the key.
	MigrationID, PendingMigrationID string
	Name, ExternalID, IdentityID    string
	Start                           string
	Meta                            map[string]any
	Roles, Permissions              []string
	Expires                         *int64 // Unix milliseconds
	Enabled                         bool
	Credits                         *Credits
	Ratelimits                      []Ratelimit
	CreatedAt, UpdatedAt            int64 // Unix milliseconds; UpdatedAt 0 = never
	Deleted                         bool  // soft-deleted (its hash stays taken)
}

// Credits are a key's usage credits. Remaining nil means unlimited.
type Credits struct {
	Remaining *int64
	Refill    *Refill
}

// Refill says how credits refill; RefillDay is set for monthly refills.
type Refill struct {
	Interval  string // "daily" or "monthly"
	Amount    int64
	RefillDay *int64
}

// Ratelimit is one of a key's rate limits; Duration is in milliseconds.
type Ratelimit struct {
	ID        string
	Name      string
	Limit     int64
	Duration  int64
	AutoApply bool
}

func (k *keyRec) export() Key {
	out := Key{
		ID: k.id, Hash: k.hash, APIID: k.apiID, WorkspaceID: k.workspace,
		MigrationID: k.migrationID, PendingMigrationID: k.pendingMigration,
		Name: k.name, Start: k.start, Enabled: k.enabled,
		Expires: clonePtr(k.expires), CreatedAt: k.createdAt, UpdatedAt: k.updatedAt, Deleted: k.deleted,
	}
	if k.identity != nil {
		out.ExternalID, out.IdentityID = k.identity.externalID, k.identity.id
	}
	if k.meta != nil {
		_ = json.Unmarshal(k.meta, &out.Meta)
	}
	for _, r := range k.roles {
		out.Roles = append(out.Roles, r.name)
	}
	for _, p := range k.permissions {
		out.Permissions = append(out.Permissions, p.slug)
	}
	if k.remaining != nil || k.refillAmount != nil {
		out.Credits = &Credits{Remaining: clonePtr(k.remaining)}
		if k.refillAmount != nil {
			out.Credits.Refill = &Refill{Interval: k.interval(), Amount: *k.refillAmount, RefillDay: clonePtr(k.refillDay)}
		}
	}
	for _, r := range k.ratelimits {
		out.Ratelimits = append(out.Ratelimits, Ratelimit{ID: r.id, Name: r.name, Limit: r.limit, Duration: r.duration, AutoApply: r.autoApply})
	}
	return out
}

// interval is how Unkey derives it: a refill day means monthly.
func (k *keyRec) interval() string {
	if k.refillDay != nil {
		return "monthly"
	}
	return "daily"
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// The alphabet of Unkey's IDs (base58).
const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// newID returns prefix_ followed by 22 random base58 characters, the shape of
// Unkey's IDs (key_2cGKbMxRyIzhCxo1Idjz8q).
func newID(prefix string) string {
	b := make([]byte, len(prefix)+1+22)
	copy(b, prefix)
	b[len(prefix)] = '_'
	for i := len(prefix) + 1; i < len(b); i++ {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

func newRequestID() string { return newID("req") }

// workspaceLocked returns a workspace, creating it. The caller holds s.mu.
func (s *Server) workspaceLocked(id string) *workspace {
	ws := s.workspaces[id]
	if ws == nil {
		ws = &workspace{
			id:          id,
			identities:  map[string]*identity{},
			roles:       map[string]*role{},
			rolesByID:   map[string]*role{},
			permissions: map[string]*permission{},
		}
		s.workspaces[id] = ws
	}
	return ws
}

func (ws *workspace) identity(externalID string) *identity {
	id := ws.identities[externalID]
	if id == nil {
		id = &identity{id: newID("id"), externalID: externalID}
		ws.identities[externalID] = id
	}
	return id
}

func (ws *workspace) role(name string) *role {
	r := ws.roles[name]
	if r == nil {
		r = &role{id: newID("role"), name: name}
		ws.roles[name] = r
		ws.rolesByID[r.id] = r
	}
	return r
}

func (ws *workspace) permission(slug string) *permission {
	p := ws.permissions[slug]
	if p == nil {
		p = &permission{id: newID("perm"), slug: slug, name: slug}
		ws.permissions[slug] = p
	}
	return p
}

// newKeyIDLocked returns an unused key ID. The caller holds s.mu.
func (s *Server) newKeyIDLocked() string {
	for {
		id := newID("key")
		if _, taken := s.keys[id]; !taken {
			return id
		}
	}
}

func (s *Server) insertKeyLocked(k *keyRec) {
	s.keys[k.id] = k
	s.byHash[k.hash] = k
	if a := s.apis[k.apiID]; a != nil {
		a.keys[k.id] = k
	}
}

func (s *Server) removeKeyLocked(k *keyRec) {
	delete(s.keys, k.id)
	if s.byHash[k.hash] == k {
		delete(s.byHash, k.hash)
	}
	if a := s.apis[k.apiID]; a != nil {
		delete(a.keys, k.id)
	}
}

// KeyByHash returns the key holding a hash, soft-deleted keys included.
func (s *Server) KeyByHash(hash string) (Key, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.byHash[hash]
	if !ok {
		return Key{}, false
	}
	return k.export(), true
}

// KeyByID returns a key by ID, soft-deleted keys included.
func (s *Server) KeyByID(id string) (Key, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.keys[id]
	if !ok {
		return Key{}, false
	}
	return k.export(), true
}

// Keys returns the live (not deleted) keys of an API, ordered by ID.
func (s *Server) Keys(apiID string) []Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.apis[apiID]
	if a == nil {
		return nil
	}
	out := make([]Key, 0, len(a.keys))
	for _, k := range a.keys {
		if !k.deleted {
			out = append(out, k.export())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// KeyCount returns how many keys the server holds, soft-deleted ones included.
func (s *Server) KeyCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.keys)
}

// sortedLiveKeys returns an API's live keys ordered by ID. The caller holds s.mu.
func (a *apiRec) sortedLiveKeys() []*keyRec {
	out := make([]*keyRec, 0, len(a.keys))
	for _, k := range a.keys {
		if !k.deleted {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(x, y *keyRec) int {
		switch {
		case x.id < y.id:
			return -1
		case x.id > y.id:
			return 1
		}
		return 0
	})
	return out
}

func newShuffler(seed uint64) *rand.Rand {
	if seed == 0 {
		seed = rand.Uint64()
	}
	return rand.New(rand.NewPCG(seed, seed))
}

// shuffle puts a list of an answer in a new order, as Unkey's answers do.
func shuffle[T any](s *Server, list []T) {
	s.shuffleMu.Lock()
	defer s.shuffleMu.Unlock()
	s.shuffler.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
}
