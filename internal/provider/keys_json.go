package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/unkeyed/terraform-provider-unkey/internal/parallel"
	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

// keysJSONKey is one key of keys_json, in Unkey's own migrateKeys format.
// Pointers tell an absent field from a zero one.
type keysJSONKey struct {
	Hash        string              `json:"hash"`
	Name        *string             `json:"name"`
	ExternalID  *string             `json:"externalId"`
	Meta        map[string]any      `json:"meta"`
	Roles       []string            `json:"roles"`
	Permissions []string            `json:"permissions"`
	Expires     *int64              `json:"expires"`
	Enabled     *bool               `json:"enabled"`
	Credits     *keysJSONCredits    `json:"credits"`
	Ratelimits  []keysJSONRatelimit `json:"ratelimits"`
}

type keysJSONCredits struct {
	Remaining *int64          `json:"remaining"`
	Refill    *keysJSONRefill `json:"refill"`
}

type keysJSONRefill struct {
	Interval  string `json:"interval"`
	Amount    *int64 `json:"amount"`
	RefillDay *int64 `json:"refillDay"`
}

type keysJSONRatelimit struct {
	Name      string `json:"name"`
	Limit     *int64 `json:"limit"`
	Duration  *int64 `json:"duration"`
	AutoApply *bool  `json:"autoApply"`
}

const keysJSONFields = "hash, name, externalId, meta, roles, permissions, expires, enabled, credits, ratelimits"

// bulkKeys is keys_json read: every key by hash, the hashes in input order,
// and each key's own JSON text (to write a partly applied state back).
type bulkKeys struct {
	hashes []string
	keys   map[string]unkeyclient.Key
	raw    map[string]string // slices of the document, not copies
	memo   *digestMemo       // settingsDigest by hash, filled as asked
}

// keysJSONProblems collects what is wrong with keys_json, each naming the
// key (by index and hash) and the field.
type keysJSONProblems struct {
	list  []string
	count int
}

const maxReportedProblems = 20

func (p *keysJSONProblems) add(format string, args ...any) {
	p.count++
	if len(p.list) < maxReportedProblems {
		p.list = append(p.list, fmt.Sprintf(format, args...))
	}
}

// merge adds other's problems after p's.
func (p *keysJSONProblems) merge(other keysJSONProblems) {
	p.count += other.count
	for _, msg := range other.list {
		if len(p.list) == maxReportedProblems {
			break
		}
		p.list = append(p.list, msg)
	}
}

// Error is every problem found, one per line, at most maxReportedProblems.
func (p *keysJSONProblems) Error() string {
	out := strings.Join(p.list, "\n")
	if p.count > len(p.list) {
		out += fmt.Sprintf("\n... and %d more problems.", p.count-len(p.list))
	}
	return out
}

// parsedKeysJSON remembers the documents read last. One provider process
// reads the same keys_json several times (validation, plan, apply, and the
// prior state's), and at 100,000 keys each read costs about a second.
// Callers never modify what parseKeysJSON returns.
var parsedKeysJSON struct {
	sync.Mutex
	entries []parsedDoc
}

type parsedDoc struct {
	doc, hashFormat, name string
	digestsOnly           bool
	bulk                  bulkKeys
	problems              *keysJSONProblems
}

const parsedDocsKept = 2 // the planned document and the prior state's

// parseKeysJSON reads and checks keys_json. hashFormat may be "".
func parseKeysJSON(doc, hashFormat string) (bulkKeys, *keysJSONProblems) {
	return parseKeysDoc(doc, hashFormat, "keys_json")
}

// parseKeysDoc reads and checks a document in Unkey's migrateKeys format;
// name is what problems call it (keys_json, or the path of keys_file).
func parseKeysDoc(doc, hashFormat, name string) (bulkKeys, *keysJSONProblems) {
	return rememberedParse(doc, hashFormat, name, false)
}

// scanKeysDoc reads and checks a document as parseKeysDoc does, but keeps
// of each key only its hash, text and settings digest: the keys are
// decoded one at a time and dropped (at 100,000 keys they hold 76 MB, which
// the collector lets grow to twice that). Its bulkKeys has no keys.
func scanKeysDoc(doc, hashFormat, name string) (bulkKeys, *keysJSONProblems) {
	return rememberedParse(doc, hashFormat, name, true)
}

func rememberedParse(doc, hashFormat, name string, digestsOnly bool) (bulkKeys, *keysJSONProblems) {
	parsedKeysJSON.Lock()
	defer parsedKeysJSON.Unlock()
	for _, e := range parsedKeysJSON.entries {
		if e.doc == doc && e.hashFormat == hashFormat && e.name == name && e.digestsOnly == digestsOnly {
			return e.bulk, e.problems
		}
	}
	bulk, problems := readKeysDoc(doc, hashFormat, name, digestsOnly)
	if len(parsedKeysJSON.entries) == parsedDocsKept {
		parsedKeysJSON.entries = parsedKeysJSON.entries[1:]
	}
	parsedKeysJSON.entries = append(parsedKeysJSON.entries, parsedDoc{doc, hashFormat, name, digestsOnly, bulk, problems})
	return bulk, problems
}

// readKeysJSON reads and checks the array. A document that splits into
// objects is decoded and checked on every CPU at once (at 100,000 keys one
// CPU takes over a second); one that does not, or whose objects are not
// valid JSON, is read by readKeysJSONStream, whose errors name the byte.
func readKeysJSON(doc, hashFormat, name string) (bulkKeys, *keysJSONProblems) {
	return readKeysDoc(doc, hashFormat, name, false)
}

// readKeysDoc is readKeysJSON; with digestsOnly, each key is digested as it
// is decoded and only its hash kept (scanKeysDoc). A document the stream
// reader reads keeps its keys either way.
func readKeysDoc(doc, hashFormat, name string, digestsOnly bool) (bulkKeys, *keysJSONProblems) {
	items, ok := splitJSONObjects(doc)
	if !ok {
		return readKeysJSONStream(doc, hashFormat, name)
	}
	read := make([]readItem, len(items))
	var digests []string
	if digestsOnly {
		digests = make([]string, len(items))
	}
	parallel.Chunks(len(items), func(from, to int) {
		dec := newItemDecoder()
		for i := from; i < to; i++ {
			read[i] = dec.read(items[i], i, hashFormat, name)
			if digestsOnly && read[i].problems.count == 0 && !read[i].syntaxErr {
				digests[i] = settingsDigest(read[i].key)
				read[i].key = unkeyclient.Key{Hash: read[i].key.Hash}
			}
		}
	})
	var problems keysJSONProblems
	out := bulkKeys{keys: make(map[string]unkeyclient.Key, len(items)), memo: &digestMemo{m: map[string]string{}}}
	if digestsOnly {
		out.keys = nil
		out.memo.m = make(map[string]string, len(items))
	}
	seen := func(h string) bool {
		if digestsOnly {
			_, ok := out.memo.m[h]
			return ok
		}
		_, ok := out.keys[h]
		return ok
	}
	raw := make(chan map[string]string)
	go func() { raw <- rawByHash(items, read) }() // on the other CPU, meanwhile
	var firstIndex map[string]int                 // made at the first duplicate: most documents have none
	for i, r := range read {
		if r.syntaxErr {
			<-raw
			return readKeysJSONStream(doc, hashFormat, name)
		}
		problems.merge(r.problems)
		if r.problems.count > 0 {
			continue
		}
		h := r.key.Hash
		if seen(h) {
			if firstIndex == nil {
				firstIndex = firstIndexes(read)
			}
			problems.add("%s[%d]: hash %q is also %s[%d]; every hash must appear once (Unkey fails a request with the same hash twice).", name, i, h, name, firstIndex[h])
			continue
		}
		out.hashes = append(out.hashes, h)
		if digestsOnly {
			out.memo.m[h] = digests[i]
		} else {
			out.keys[h] = r.key
		}
	}
	out.memo.complete = digestsOnly
	out.raw = <-raw
	if problems.count > 0 {
		return out, &problems
	}
	return out, nil
}

// rawByHash is each valid item's text by its hash, the first where a hash
// repeats.
func rawByHash(items []string, read []readItem) map[string]string {
	out := make(map[string]string, len(items))
	for i, r := range read {
		if r.syntaxErr || r.problems.count > 0 {
			continue
		}
		if _, dup := out[r.key.Hash]; !dup {
			out[r.key.Hash] = items[i]
		}
	}
	return out
}

// firstIndexes is the index of each valid item's hash where it first
// appears.
func firstIndexes(read []readItem) map[string]int {
	out := map[string]int{}
	for i, r := range read {
		if r.syntaxErr || r.problems.count > 0 {
			continue
		}
		if _, dup := out[r.key.Hash]; !dup {
			out[r.key.Hash] = i
		}
	}
	return out
}

// readItem is one object of the array, decoded and checked.
type readItem struct {
	key       unkeyclient.Key
	problems  keysJSONProblems
	syntaxErr bool // not valid JSON: the stream reader reports it
}

// itemDecoder decodes objects one after the other with one json.Decoder
// (and its buffer), fed each object in turn by its reader.
type itemDecoder struct {
	src *itemSource
	dec *json.Decoder
}

// itemSource gives the decoder the current object, then io.EOF.
type itemSource struct{ rest string }

func (s *itemSource) Read(p []byte) (int, error) {
	if s.rest == "" {
		return 0, io.EOF
	}
	n := copy(p, s.rest)
	s.rest = s.rest[n:]
	return n, nil
}

func newItemDecoder() itemDecoder {
	src := &itemSource{}
	dec := json.NewDecoder(src)
	dec.DisallowUnknownFields()
	dec.UseNumber() // keep large integers in meta exact
	return itemDecoder{src: src, dec: dec}
}

// read decodes and checks the object raw, item i of the array, as
// readKeysJSONStream does. An object that is not exactly one valid JSON
// value is a syntax error, which leaves the decoder unusable.
func (d itemDecoder) read(raw string, i int, hashFormat, name string) readItem {
	var r readItem
	if k, ok := decodeKeyFast(raw); ok {
		r.key, _ = checkKeysJSONKey(keyLabel(name, i, k.Hash), k, hashFormat, &r.problems)
		return r
	}
	d.src.rest = raw
	start := d.dec.InputOffset()
	var k keysJSONKey
	err := d.dec.Decode(&k)
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) || errors.Is(err, io.ErrUnexpectedEOF) || d.src.rest != "" || d.dec.InputOffset()-start != int64(len(raw)) {
		r.syntaxErr = true
		return r
	}
	if err != nil {
		r.problems.add("%s: %s", keyLabel(name, i, hashOfBrokenItem([]byte(raw))), jsonProblem(err))
		return r
	}
	r.key, _ = checkKeysJSONKey(keyLabel(name, i, k.Hash), k, hashFormat, &r.problems)
	return r
}

// splitJSONObjects splits a JSON array of objects into the objects' text,
// tracking only strings and nesting; ok is false for anything else (another
// value, an empty array, an unbalanced object). It does not check the
// objects: each is decoded on its own afterwards.
func splitJSONObjects(doc string) (items []string, ok bool) {
	i := skipJSONSpace(doc, 0)
	if i == len(doc) || doc[i] != '[' {
		return nil, false
	}
	for {
		i = skipJSONSpace(doc, i+1)
		if i == len(doc) || doc[i] != '{' {
			return nil, false
		}
		end := endOfJSONObject(doc, i)
		if end < 0 {
			return nil, false
		}
		items = append(items, doc[i:end])
		i = skipJSONSpace(doc, end)
		if i == len(doc) {
			return nil, false
		}
		if doc[i] == ']' {
			break
		}
		if doc[i] != ',' {
			return nil, false
		}
	}
	return items, skipJSONSpace(doc, i+1) == len(doc)
}

func skipJSONSpace(doc string, i int) int {
	for i < len(doc) && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r') {
		i++
	}
	return i
}

// endOfJSONObject is the index just past the object or array that starts
// at doc[start], or -1 when it does not end.
func endOfJSONObject(doc string, start int) int {
	depth := 0
	for i := start; i < len(doc); i++ {
		switch doc[i] {
		case '"':
			for i++; i < len(doc) && doc[i] != '"'; i++ {
				if doc[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// readKeysJSONStream reads the array in one pass with encoding/json's
// stream decoder, stopping at the first syntax error.
func readKeysJSONStream(doc, hashFormat, name string) (bulkKeys, *keysJSONProblems) {
	var problems keysJSONProblems
	notArray := func(err error) (bulkKeys, *keysJSONProblems) {
		problems.add("%s must be a JSON array of key objects in Unkey's migrateKeys format, e.g. %s; write it with file(\"keys.json\") or jsonencode([...]). %s",
			name, `[{"hash": "...", "name": "..."}]`, jsonProblem(err))
		return bulkKeys{}, &problems
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	dec.UseNumber() // keep large integers in meta exact
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return notArray(err)
	}
	out := bulkKeys{keys: map[string]unkeyclient.Key{}, raw: map[string]string{}, memo: &digestMemo{m: map[string]string{}}}
	firstIndex := map[string]int{}
	for i := 0; dec.More(); i++ {
		start := dec.InputOffset()
		var k keysJSONKey
		err := dec.Decode(&k)
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) || errors.Is(err, io.ErrUnexpectedEOF) {
			return notArray(err) // the rest cannot be read
		}
		raw := strings.TrimLeft(doc[start:dec.InputOffset()], " \t\r\n,")
		if err != nil {
			problems.add("%s: %s", keyLabel(name, i, hashOfBrokenItem([]byte(raw))), jsonProblem(err))
			continue
		}
		key, ok := checkKeysJSONKey(keyLabel(name, i, k.Hash), k, hashFormat, &problems)
		if !ok {
			continue
		}
		if j, dup := firstIndex[key.Hash]; dup {
			problems.add("%s[%d]: hash %q is also %s[%d]; every hash must appear once (Unkey fails a request with the same hash twice).", name, i, key.Hash, name, j)
			continue
		}
		firstIndex[key.Hash] = i
		out.hashes = append(out.hashes, key.Hash)
		out.keys[key.Hash] = key
		out.raw[key.Hash] = raw
	}
	if _, err := dec.Token(); err != nil {
		return notArray(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return notArray(errors.New("there is more after the array"))
	}
	if problems.count == 0 && len(out.hashes) == 0 {
		problems.add("%s is an empty array: give at least one key, or remove the resource.", name)
	}
	if problems.count > 0 {
		return out, &problems
	}
	return out, nil
}

func checkKeysJSONKey(at keyAt, k keysJSONKey, hashFormat string, problems *keysJSONProblems) (unkeyclient.Key, bool) {
	before := problems.count
	switch {
	case k.Hash == "":
		problems.add("%s: hash is missing: every key needs the hash of the key as your system stored it.", at)
	case utf8.RuneCountInString(k.Hash) < 3:
		problems.add("%s: hash must be at least 3 characters.", at)
	default:
		if why := checkHash(k.Hash, hashFormat); why != "" {
			problems.add("%s: the hash %s.", at, why)
		}
	}
	checkLength(problems, at, "name", k.Name, 1, 255)
	checkLength(problems, at, "externalId", k.ExternalID, 1, 255)
	if len(k.Meta) > 100 {
		problems.add("%s: meta has %d top-level properties; Unkey accepts at most 100. Nest related values in objects.", at, len(k.Meta))
	}
	checkNames(problems, at, "roles", k.Roles, 100, false)
	checkNames(problems, at, "permissions", k.Permissions, 1000, true)
	if k.Expires != nil && (*k.Expires < 0 || *k.Expires >= maxExpires.UnixMilli()) {
		problems.add("%s: expires must be Unix milliseconds between 0 and %d (2100-01-01); got %d.", at, maxExpires.UnixMilli(), *k.Expires)
	}
	credits := checkCredits(problems, at, k.Credits)
	ratelimits := checkRatelimits(problems, at, k.Ratelimits)
	if problems.count > before {
		return unkeyclient.Key{}, false
	}
	return unkeyclient.Key{
		Hash:        k.Hash,
		Name:        k.Name,
		ExternalID:  k.ExternalID,
		Meta:        k.Meta,
		Roles:       sortedCopy(k.Roles),
		Permissions: sortedCopy(k.Permissions),
		ExpiresMs:   k.Expires,
		Enabled:     k.Enabled == nil || *k.Enabled,
		Credits:     credits,
		Ratelimits:  ratelimits,
	}, true
}

func keyLabel(name string, i int, hash string) keyAt {
	return keyAt{name: name, i: i, hash: hash}
}

// keyAt names a key of the array in problems; written only when a problem
// is, as most keys have none.
type keyAt struct {
	name string
	i    int
	hash string
}

func (k keyAt) String() string {
	if k.hash == "" {
		return fmt.Sprintf("%s[%d]", k.name, k.i)
	}
	return fmt.Sprintf("%s[%d] (hash %q)", k.name, k.i, k.hash)
}

// ratelimitAt names a rate limit of a key in problems.
type ratelimitAt struct {
	key keyAt
	j   int
}

func (r ratelimitAt) String() string { return fmt.Sprintf("%s: ratelimits[%d]", r.key, r.j) }

// hashOfBrokenItem finds the hash of an item that did not decode, to name it.
func hashOfBrokenItem(item json.RawMessage) string {
	var h struct {
		Hash string `json:"hash"`
	}
	_ = json.Unmarshal(item, &h)
	return h.Hash
}

// jsonProblem rewords encoding/json's errors in keys_json's terms.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Sprintf("%s must be %s, not a JSON %s.", typeErr.Field, jsonTypeName(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Sprintf("must be a JSON object, not a JSON %s.", typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("it is not valid JSON (at byte %d: %s).", syntaxErr.Offset, syntaxErr)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Sprintf("%s is not a field of Unkey's migrateKeys format; the fields are %s.",
			strings.TrimPrefix(err.Error(), "json: unknown field "), keysJSONFields)
	default:
		return err.Error() + "."
	}
}

func jsonTypeName(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "string":
		return "a string"
	case "int64":
		return "a whole number"
	case "bool":
		return "true or false"
	case "[]string":
		return "an array of strings"
	case "[]provider.keysJSONRatelimit":
		return "an array of rate limit objects"
	case "map[string]interface {}":
		return "a JSON object, such as {\"plan\": \"pro\"}"
	default:
		return "an object"
	}
}

func checkLength(problems *keysJSONProblems, at keyAt, field string, v *string, minLen, maxLen int) {
	if v == nil {
		return
	}
	if n := utf8.RuneCountInString(*v); n < minLen || n > maxLen {
		problems.add("%s: %s must be %d to %d characters; it has %d.", at, field, minLen, maxLen, n)
	}
}

func checkNames(problems *keysJSONProblems, at keyAt, field string, names []string, maxItems int, isPermission bool) {
	if len(names) > maxItems {
		problems.add("%s: %s has %d entries; Unkey accepts at most %d.", at, field, len(names), maxItems)
	}
	var seen map[string]bool // a few names are compared one by one: most keys have one or two
	if len(names) > 16 {
		seen = make(map[string]bool, len(names))
	}
	for j, n := range names {
		switch {
		case utf8.RuneCountInString(n) < 1 || utf8.RuneCountInString(n) > 128:
			problems.add("%s: %s[%d] must be 1 to 128 characters.", at, field, j)
		case isPermission && !permissionPattern.MatchString(n):
			problems.add("%s: %s[%d] %q may contain only letters, digits and the characters _ : - . *", at, field, j, n)
		case seen[n] || (seen == nil && slices.Contains(names[:j], n)):
			problems.add("%s: %s lists %q twice.", at, field, n)
		}
		if seen != nil {
			seen[n] = true
		}
	}
}

func checkCredits(problems *keysJSONProblems, at keyAt, c *keysJSONCredits) *unkeyclient.Credits {
	if c == nil {
		return nil
	}
	if c.Remaining == nil || *c.Remaining < 0 {
		problems.add("%s: credits.remaining must be a whole number of 0 or more; leave credits out for unlimited use.", at)
		return nil
	}
	out := &unkeyclient.Credits{Remaining: *c.Remaining}
	r := c.Refill
	if r == nil {
		return out
	}
	switch {
	case r.Interval != "daily" && r.Interval != "monthly":
		problems.add("%s: credits.refill.interval must be \"daily\" or \"monthly\"; got %q.", at, r.Interval)
	case r.Interval == "monthly" && r.RefillDay == nil:
		problems.add("%s: credits.refill.refillDay is required for a monthly refill: the day of the month, 1 to 31.", at)
	case r.Interval == "daily" && r.RefillDay != nil:
		problems.add("%s: credits.refill.refillDay is only for monthly refills; remove it from this daily refill.", at)
	case r.RefillDay != nil && (*r.RefillDay < 1 || *r.RefillDay > 31):
		problems.add("%s: credits.refill.refillDay must be 1 to 31; got %d.", at, *r.RefillDay)
	}
	if r.Amount == nil || *r.Amount < 1 {
		problems.add("%s: credits.refill.amount must be a whole number of 1 or more.", at)
		return out
	}
	out.Refill = &unkeyclient.Refill{Interval: r.Interval, Amount: *r.Amount, RefillDay: r.RefillDay}
	return out
}

func checkRatelimits(problems *keysJSONProblems, at keyAt, rls []keysJSONRatelimit) []unkeyclient.Ratelimit {
	if len(rls) > 50 {
		problems.add("%s: ratelimits has %d entries; Unkey accepts at most 50.", at, len(rls))
	}
	var out []unkeyclient.Ratelimit
	seen := map[string]bool{}
	for j, rl := range rls {
		rat := ratelimitAt{at, j}
		if n := utf8.RuneCountInString(rl.Name); n < 3 || n > 128 {
			problems.add("%s.name must be 3 to 128 characters.", rat)
		} else if seen[rl.Name] {
			problems.add("%s.name %q is used twice; rate limit names must be unique per key.", rat, rl.Name)
		}
		seen[rl.Name] = true
		if rl.Limit == nil || *rl.Limit < 1 {
			problems.add("%s.limit must be a whole number of 1 or more.", rat)
		}
		if rl.Duration == nil || *rl.Duration < 1000 {
			problems.add("%s.duration must be the window in milliseconds, at least 1000 (one second).", rat)
		}
		if rl.Limit != nil && rl.Duration != nil {
			out = append(out, unkeyclient.Ratelimit{Name: rl.Name, Limit: *rl.Limit, DurationMs: *rl.Duration, AutoApply: rl.AutoApply != nil && *rl.AutoApply})
		}
	}
	return out
}

// withEntries writes keys_json back with the given hashes' entries taken
// from other (or left out when other lacks them), for a state that holds
// what was actually applied.
func (b bulkKeys) withEntries(other bulkKeys, hashes []string) string {
	replace := make(map[string]bool, len(hashes))
	for _, h := range hashes {
		replace[h] = true
	}
	var buf bytes.Buffer
	buf.WriteString("[")
	write := func(raw string) {
		if buf.Len() > 1 {
			buf.WriteString(",")
		}
		buf.WriteString("\n  ")
		buf.WriteString(raw)
	}
	for _, h := range b.hashes {
		if !replace[h] {
			write(b.raw[h])
		} else if raw, ok := other.raw[h]; ok {
			write(raw)
		}
	}
	for _, h := range other.hashes {
		if _, inB := b.keys[h]; replace[h] && !inB {
			write(other.raw[h])
		}
	}
	buf.WriteString("\n]\n")
	return buf.String()
}
