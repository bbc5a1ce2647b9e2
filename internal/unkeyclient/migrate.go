package unkeyclient

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/unkeyed/sdks/api/go/v2/models/components"
	"github.com/unkeyed/terraform-provider-unkey/internal/parallel"
)

// Key is one pre-hashed key to migrate, in Unkey's terms.
type Key struct {
	Hash        string
	Name        *string
	ExternalID  *string
	Meta        map[string]any
	Roles       []string
	Permissions []string
	ExpiresMs   *int64
	Enabled     bool
	Credits     *Credits
	Ratelimits  []Ratelimit
}

// Credits are a key's usage credits.
type Credits struct {
	Remaining int64
	Refill    *Refill
}

// Refill says how credits come back.
type Refill struct {
	Interval  string // "daily" or "monthly"
	Amount    int64
	RefillDay *int64
}

// Ratelimit is one of a key's rate limits.
type Ratelimit struct {
	Name       string
	Limit      int64
	DurationMs int64
	AutoApply  bool
}

// MigrateRequest is one call of Migrate.
type MigrateRequest struct {
	MigrationID string
	APIID       string
	Keys        []Key
	// BatchSize is the most keys per request; batches are also split so that
	// no body passes MaxBatchBytes.
	BatchSize int
	// Parallel is how many requests may be in flight at once (at least 1).
	// Batches never share a hash, so their order does not matter to Unkey.
	Parallel int
	// BeforeBatch, when set, is called with a batch's hashes just before it
	// is sent, and AfterBatch with what Unkey said of them once it is done
	// (also when it failed). They let the caller journal progress outside
	// Terraform, which saves nothing of an operation whose provider died.
	BeforeBatch func(hashes []string)
	AfterBatch  func(outcome MigrateResult)
}

// DefaultParallel and MaxParallel bound how many migrateKeys requests are in
// flight at once. Each request is one database transaction in Unkey; more
// than a few in parallel stop paying off (see BENCHMARKS.md) and make rate
// limiting likelier.
const (
	DefaultParallel = 4
	MaxParallel     = 16
)

// MaxBatchBytes keeps every request body well under Unkey's 10 MiB cap.
const MaxBatchBytes = 5 << 20

// MigrateResult is everything Unkey said about the hashes of a Migrate call.
// It is complete even when Migrate returns an error: every key ID that came
// back is in it.
type MigrateResult struct {
	// KeyIDs maps each migrated hash to the key ID Unkey gave it.
	KeyIDs map[string]string
	// Failed are hashes Unkey refused because a key with that hash already
	// existed before this call.
	Failed []string
	// Unconfirmed are hashes Unkey refused as already existing after an
	// earlier attempt of the same request lost its answer: most likely that
	// attempt migrated them, and their key IDs can no longer be learned.
	Unconfirmed []string
	// Unanswered are hashes sent in a request whose outcome is unknown.
	Unanswered []string
	// NotSent are hashes no request carried (the call stopped first).
	NotSent []string
}

// batch is one migrateKeys request's worth of keys, already encoded.
type batch struct {
	hashes []string
	keys   []json.RawMessage
	size   int // bytes of the encoded keys and their separators
}

// body is the whole request body of the batch.
func (b batch) body(migrationID, apiID string) ([]byte, error) {
	head, err := json.Marshal(struct {
		MigrationID string `json:"migrationId"`
		APIID       string `json:"apiId"`
	}{migrationID, apiID})
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(head)+b.size+16)
	out = append(out, head[:len(head)-1]...)
	out = append(out, `,"keys":[`...)
	for i, k := range b.keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, k...)
	}
	return append(out, "]}"...), nil
}

// checkUnique refuses a request with a hash twice: one request with the
// same hash twice fails as a whole in Unkey.
func (r MigrateRequest) checkUnique() error {
	seen := make(map[string]struct{}, len(r.Keys))
	for _, k := range r.Keys {
		if _, dup := seen[k.Hash]; dup {
			return fmt.Errorf("hash %q appears twice; every hash must be unique", k.Hash)
		}
		seen[k.Hash] = struct{}{}
	}
	return nil
}

// batchSize is the most keys per request.
func (r MigrateRequest) batchSize() int {
	if r.BatchSize <= 0 {
		return 100
	}
	return r.BatchSize
}

// batchQueue is the batches of one Migrate call, cut from the keys in
// order (at most BatchSize keys and MaxBatchBytes each) and encoded a few
// at a time ahead of the requests sending them: at 100,000 keys encoding
// them all first kept the first request waiting for half a second of CPU,
// which the migration has to spare while it waits for Unkey's answers.
type batchQueue struct {
	mu      sync.Mutex
	changed *sync.Cond
	batches []batch
	ended   bool  // no more batches will come
	err     error // why they stopped before the last key, if they did
	stop    bool  // the senders need no more
}

// queueBatches starts encoding req's keys into batches, on every CPU,
// segment by segment: each segment is as many batches as are sent at once.
func queueBatches(req MigrateRequest) *batchQueue {
	q := &batchQueue{}
	q.changed = sync.NewCond(&q.mu)
	go q.fill(req)
	return q
}

func (q *batchQueue) fill(req MigrateRequest) {
	var err error
	defer func() { q.end(err) }()
	size := req.batchSize()
	segment := size * max(req.Parallel, 1)
	var current batch
	for start := 0; start < len(req.Keys); start += segment {
		keys := req.Keys[start:min(start+segment, len(req.Keys))]
		var encoded []json.RawMessage
		if encoded, err = encodeKeys(keys); err != nil {
			return
		}
		var complete []batch
		for i, k := range keys {
			n := len(encoded[i]) + 1
			if len(current.keys) == size || (len(current.keys) > 0 && current.size+n > MaxBatchBytes) {
				complete = append(complete, current)
				current = batch{}
			}
			current.hashes = append(current.hashes, k.Hash)
			current.keys = append(current.keys, encoded[i])
			current.size += n
		}
		if len(current.keys) == size { // full: the next key starts another
			complete = append(complete, current)
			current = batch{}
		}
		if !q.publish(complete) {
			return
		}
	}
	if len(current.keys) > 0 {
		q.publish([]batch{current})
	}
}

// publish adds encoded batches; false once the senders need no more.
func (q *batchQueue) publish(batches []batch) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.batches = append(q.batches, batches...)
	q.changed.Broadcast()
	return !q.stop
}

// end says that no more batches will come, and why, if a key could not be
// encoded.
func (q *batchQueue) end(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.err, q.ended = err, true
	q.changed.Broadcast()
}

// wait waits until batch i is encoded, or no more will come; ok is false
// then, with the error that stopped them (nil after the last batch).
func (q *batchQueue) wait(i int) (_ batch, ok bool, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i >= len(q.batches) && !q.ended {
		q.changed.Wait()
	}
	if i < len(q.batches) {
		return q.batches[i], true, nil
	}
	return batch{}, false, q.err
}

// sent forgets the encoded keys of batch i: the batch is done with them.
func (q *batchQueue) sent(i int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.batches[i].keys = nil
}

// total is how many batches there are, once they are all encoded; waiting
// for that takes moments, as encoding runs far ahead of sending.
func (q *batchQueue) total() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.ended {
		q.changed.Wait()
	}
	return len(q.batches)
}

// encoded is how many batches are encoded so far, and whether that is all.
func (q *batchQueue) encoded() (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.batches), q.ended
}

// finish stops the encoding and waits for it, for the batches' hashes.
func (q *batchQueue) finish() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stop = true
	for !q.ended {
		q.changed.Wait()
	}
}

// keysIn counts the keys of batches [0, n).
func (q *batchQueue) keysIn(n int) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	count := 0
	for _, b := range q.batches[:n] {
		count += len(b.hashes)
	}
	return count
}

// encodeKeys encodes keys for the wire, on every CPU at once (one CPU takes
// half a second for 100,000 keys). The error is the first key's, in order,
// that cannot be sent.
func encodeKeys(keys []Key) ([]json.RawMessage, error) {
	encoded := make([]json.RawMessage, len(keys))
	errs := make([]error, len(keys))
	parallel.Chunks(len(keys), func(from, to int) {
		var buf []byte // the chunk's keys one after the other: one allocation per few hundred keys
		for i := from; i < to; i++ {
			encoded[i], buf, errs[i] = encodeKey(keys[i], buf)
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return encoded, nil
}

// encodeKey encodes k, appending it to buf when it takes the fast path, and
// returns buf to append the next key to.
func encodeKey(k Key, buf []byte) (json.RawMessage, []byte, error) {
	if cap(buf)-len(buf) < 4096 {
		buf = make([]byte, 0, 256<<10)
	}
	start := len(buf)
	encoded, ok := appendKeyFast(buf, k)
	if ok {
		buf, encoded = encoded, encoded[start:len(encoded):len(encoded)]
	} else {
		var err error
		if encoded, err = json.Marshal(k.toWire()); err != nil {
			return nil, buf, fmt.Errorf("encoding key %q: %w", k.Hash, err)
		}
	}
	if n := len(encoded) + 1; n > MaxBatchBytes {
		return nil, buf, fmt.Errorf("key %q alone encodes to %d bytes, more than the %d a request may carry", k.Hash, n, MaxBatchBytes)
	}
	return encoded, buf, nil
}

// Migrate sends the keys in batches, up to req.Parallel requests at a time,
// and returns what Unkey answered for every hash. Once a batch fails after its
// retries, a key cannot be encoded, or ctx is cancelled, no further batch
// starts; the batches already in flight are waited for, so the result still
// holds every key ID that came back.
func (c *Client) Migrate(ctx context.Context, req MigrateRequest) (MigrateResult, error) {
	res := MigrateResult{KeyIDs: make(map[string]string, len(req.Keys))}
	if err := req.checkUnique(); err != nil {
		return res, err
	}
	if len(req.Keys) == 0 {
		return res, nil
	}
	q := queueBatches(req)
	m := &migration{client: c, req: req, batches: q, res: &res}
	var wg sync.WaitGroup
	for range max(req.Parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.work(ctx)
		}()
	}
	wg.Wait()
	q.finish()
	for _, k := range req.Keys[q.keysIn(m.next):] {
		res.NotSent = append(res.NotSent, k.Hash)
	}
	return res, m.err
}

// migration is the shared progress of one Migrate call's workers.
type migration struct {
	client  *Client
	req     MigrateRequest
	batches *batchQueue

	mu   sync.Mutex // guards everything below, and serialises the callbacks
	next int        // the first batch not started
	sent int
	err  error
	res  *MigrateResult
}

func (m *migration) work(ctx context.Context) {
	for {
		i, b, ok := m.take(ctx)
		if !ok {
			return
		}
		outcome := MigrateResult{KeyIDs: make(map[string]string, len(b.hashes))}
		err := m.client.migrateBatch(ctx, m.req, b, &outcome)
		m.batches.sent(i)
		m.record(ctx, i, len(b.hashes), outcome, err)
	}
}

// take starts the next batch, unless there is none or the call is stopping.
func (m *migration) take(ctx context.Context) (int, batch, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return 0, batch{}, false
	}
	b, ok, err := m.batches.wait(m.next)
	if !ok {
		m.err = err // the key that could not be encoded, if any
		return 0, batch{}, false
	}
	if ctx.Err() != nil {
		m.err = fmt.Errorf("stopped before batch %d of %d: %w", m.next+1, m.batches.total(), context.Cause(ctx))
		return 0, batch{}, false
	}
	i := m.next
	m.next++
	if m.req.BeforeBatch != nil {
		m.req.BeforeBatch(appendHashes(nil, b))
	}
	return i, b, true
}

func (m *migration) record(ctx context.Context, i, keys int, outcome MigrateResult, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.req.AfterBatch != nil {
		m.req.AfterBatch(outcome)
	}
	m.res.merge(outcome)
	if err != nil {
		if m.err == nil {
			m.err = fmt.Errorf("batch %d of %d: %w", i+1, m.batches.total(), err)
		}
		return
	}
	m.sent += keys
	fields := map[string]any{
		"batch": i + 1, "keys_sent": m.sent, "keys_total": len(m.req.Keys),
		"migrated": len(m.res.KeyIDs), "failed": len(m.res.Failed) + len(m.res.Unconfirmed),
	}
	if n, all := m.batches.encoded(); all { // else still being encoded: not worth waiting for
		fields["batches"] = n
	}
	tflog.Info(ctx, "Migrated a batch of keys", fields)
}

func (r *MigrateResult) merge(o MigrateResult) {
	for h, id := range o.KeyIDs {
		r.KeyIDs[h] = id
	}
	r.Failed = append(r.Failed, o.Failed...)
	r.Unconfirmed = append(r.Unconfirmed, o.Unconfirmed...)
	r.Unanswered = append(r.Unanswered, o.Unanswered...)
	r.NotSent = append(r.NotSent, o.NotSent...)
}

func appendHashes(dst []string, batches ...batch) []string {
	for _, b := range batches {
		dst = append(dst, b.hashes...)
	}
	return dst
}

func (c *Client) migrateBatch(ctx context.Context, req MigrateRequest, batch batch, res *MigrateResult) error {
	const op = "keys.migrateKeys"
	body, err := batch.body(req.MigrationID, req.APIID)
	if err != nil {
		res.NotSent = appendHashes(res.NotSent, batch)
		return err
	}
	var answer *components.V2KeysMigrateKeysResponseBody
	outcome, err := c.call(ctx, op, func(ctx context.Context) error {
		// The SDK sends the request and reads the answer, but the body is the
		// one encoded by queueBatches: see Key.toWire.
		// The transport reads the answer itself when it can
		// (decodeMigrateAnswerFast), and the SDK then decodes an empty one.
		resp, err := c.sdk.Keys.MigrateKeys(withFastMigrateAnswer(withBody(ctx, body)), components.V2KeysMigrateKeysRequestBody{
			MigrationID: req.MigrationID, APIID: req.APIID, Keys: []components.V2KeysMigrateKeyData{},
		})
		if err != nil {
			return err
		}
		if resp.V2KeysMigrateKeysResponseBody == nil {
			return errNoBody
		}
		answer = resp.V2KeysMigrateKeysResponseBody
		if read := migrateAnswerRead(ctx); read != nil {
			answer = read
		}
		return nil
	})
	if err != nil {
		if outcome.earlierAttemptMayHaveTakenEffect || outcome.lastAttemptMayHaveTakenEffect {
			res.Unanswered = appendHashes(res.Unanswered, batch)
		} else {
			res.NotSent = appendHashes(res.NotSent, batch)
		}
		return err
	}
	return recordBatchAnswer(op, batch, answer, outcome.earlierAttemptMayHaveTakenEffect, res)
}

// recordBatchAnswer checks Unkey's answer against what was sent before
// trusting any of it, and records each hash exactly once.
func recordBatchAnswer(op string, batch batch, answer *components.V2KeysMigrateKeysResponseBody, retriedAfterLostAnswer bool, res *MigrateResult) error {
	open := make(map[string]bool, len(batch.hashes)) // hash => not yet answered for
	for _, h := range batch.hashes {
		open[h] = true
	}
	var problems []string
	keyIDs := make(map[string]bool, len(answer.Data.Migrated))
	for _, m := range answer.Data.Migrated {
		switch {
		case !open[m.Hash]:
			problems = append(problems, fmt.Sprintf("it lists hash %q as migrated, which was not sent or was listed twice", m.Hash))
		case m.KeyID == "":
			problems = append(problems, fmt.Sprintf("it gives hash %q an empty key ID", m.Hash))
		case keyIDs[m.KeyID]:
			problems = append(problems, fmt.Sprintf("it gives key ID %q to more than one hash", m.KeyID))
		default:
			open[m.Hash] = false
			keyIDs[m.KeyID] = true
			res.KeyIDs[m.Hash] = m.KeyID
		}
	}
	for _, h := range answer.Data.Failed {
		if !open[h] {
			problems = append(problems, fmt.Sprintf("it lists hash %q as failed, which was not sent or was already answered for", h))
			continue
		}
		open[h] = false
		if retriedAfterLostAnswer {
			res.Unconfirmed = append(res.Unconfirmed, h)
		} else {
			res.Failed = append(res.Failed, h)
		}
	}
	unanswered := 0
	for _, h := range batch.hashes {
		if open[h] {
			res.Unanswered = append(res.Unanswered, h)
			unanswered++
		}
	}
	if unanswered > 0 {
		problems = append(problems, fmt.Sprintf("it says nothing about %d of the %s sent", unanswered, countOf(len(batch.hashes), "hash", "hashes")))
	}
	if len(problems) > 0 {
		return &UnreadableAnswerError{Operation: op, Status: 200, RequestID: answer.Meta.RequestID, Reason: joinProblems(problems)}
	}
	return nil
}

func joinProblems(p []string) string {
	const show = 3
	if len(p) > show {
		return fmt.Sprintf("%s; and %s more", joinProblems(p[:show]), countOf(len(p)-show, "problem", "problems"))
	}
	out := p[0]
	for _, s := range p[1:] {
		out += "; " + s
	}
	return out
}

// wireKey is a key as keys.migrateKeys takes it. The client encodes keys
// itself, once each, with encoding/json: the SDK's reflective encoder cost
// about 30 µs a key, most of the provider's CPU time at 100,000 keys.
// TestWireEncodingMatchesSDK keeps the two encodings equal.
type wireKey struct {
	Hash       string  `json:"hash"`
	Name       *string `json:"name,omitempty"`
	ExternalID *string `json:"externalId,omitempty"`
	// Pointers, like the SDK: an empty list or object is sent, nil is not.
	Meta        *map[string]any  `json:"meta,omitempty"`
	Roles       *[]string        `json:"roles,omitempty"`
	Permissions *[]string        `json:"permissions,omitempty"`
	Expires     *int64           `json:"expires,omitempty"`
	Enabled     bool             `json:"enabled"`
	Credits     *wireCredits     `json:"credits,omitempty"`
	Ratelimits  *[]wireRatelimit `json:"ratelimits,omitempty"`
}

type wireCredits struct {
	Remaining int64       `json:"remaining"`
	Refill    *wireRefill `json:"refill,omitempty"`
}

type wireRefill struct {
	Interval  string `json:"interval"`
	Amount    int64  `json:"amount"`
	RefillDay *int64 `json:"refillDay,omitempty"`
}

type wireRatelimit struct {
	Name      string `json:"name"`
	Limit     int64  `json:"limit"`
	Duration  int64  `json:"duration"`
	AutoApply bool   `json:"autoApply"`
}

func (k Key) toWire() wireKey {
	w := wireKey{Hash: k.Hash, Name: k.Name, ExternalID: k.ExternalID, Expires: k.ExpiresMs, Enabled: k.Enabled}
	if k.Meta != nil {
		w.Meta = &k.Meta
	}
	if k.Roles != nil {
		w.Roles = &k.Roles
	}
	if k.Permissions != nil {
		w.Permissions = &k.Permissions
	}
	if c := k.Credits; c != nil {
		w.Credits = &wireCredits{Remaining: c.Remaining}
		if r := c.Refill; r != nil {
			w.Credits.Refill = &wireRefill{Interval: r.Interval, Amount: r.Amount, RefillDay: r.RefillDay}
		}
	}
	if k.Ratelimits != nil {
		rls := make([]wireRatelimit, len(k.Ratelimits))
		for i, r := range k.Ratelimits {
			rls[i] = wireRatelimit{Name: r.Name, Limit: r.Limit, Duration: r.DurationMs, AutoApply: r.AutoApply}
		}
		w.Ratelimits = &rls
	}
	return w
}

// toSDK is the key as the SDK models it (for the encoding test).
func (k Key) toSDK() components.V2KeysMigrateKeyData {
	enabled := k.Enabled
	return components.V2KeysMigrateKeyData{
		Hash:        k.Hash,
		Name:        k.Name,
		ExternalID:  k.ExternalID,
		Meta:        k.Meta,
		Roles:       k.Roles,
		Permissions: k.Permissions,
		Expires:     k.ExpiresMs,
		Enabled:     &enabled,
		Credits:     k.Credits.toSDK(),
		Ratelimits:  ratelimitsToSDK(k.Ratelimits),
	}
}

func (c *Credits) toSDK() *components.KeyCreditsData {
	if c == nil {
		return nil
	}
	remaining := c.Remaining
	out := &components.KeyCreditsData{Remaining: &remaining}
	if c.Refill != nil {
		out.Refill = &components.KeyCreditsRefill{
			Interval:  components.KeyCreditsRefillInterval(c.Refill.Interval),
			Amount:    c.Refill.Amount,
			RefillDay: c.Refill.RefillDay,
		}
	}
	return out
}

func ratelimitsToSDK(rls []Ratelimit) []components.RatelimitRequest {
	if rls == nil {
		return nil
	}
	out := make([]components.RatelimitRequest, len(rls))
	for i, r := range rls {
		autoApply := r.AutoApply
		out[i] = components.RatelimitRequest{Name: r.Name, Limit: r.Limit, Duration: r.DurationMs, AutoApply: &autoApply}
	}
	return out
}
