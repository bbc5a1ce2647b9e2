package unkeylocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is a small JSON Schema validator for the request bodies the
// server accepts, written from the schemas in Unkey's OpenAPI document. Unkey
// validates every request against that document before its handlers run
// (github.com/santhosh-tekuri/jsonschema), so the messages and locations
// below follow that library and Unkey's translation of its errors.

type jsonType int

const (
	tObject  jsonType = iota // an object with declared properties
	tMap                     // an object with any properties (meta)
	tString                  //
	tInteger                 //
	tBoolean                 //
	tArray                   //
)

func (t jsonType) String() string {
	switch t {
	case tObject, tMap:
		return "object"
	case tString:
		return "string"
	case tInteger:
		return "integer"
	case tBoolean:
		return "boolean"
	default:
		return "array"
	}
}

type prop struct {
	name string
	s    *schema
}

type schema struct {
	typ      jsonType
	nullable bool

	props    []prop
	required []string
	open     bool // additional properties allowed
	maxProps int  // -1: none

	minLen, maxLen int // -1: none
	pattern        *regexp.Regexp
	enum           []string

	min, max *float64

	items              *schema
	minItems, maxItems int // -1: none
}

func newSchema(t jsonType) *schema {
	return &schema{typ: t, maxProps: -1, minLen: -1, maxLen: -1, minItems: -1, maxItems: -1}
}

// Builders, so that the schemas below read like the OpenAPI document.

func object(props ...prop) *schema { s := newSchema(tObject); s.props = props; return s }
func anyObject() *schema           { return newSchema(tMap) }
func str() *schema                 { return newSchema(tString) }
func integer() *schema             { return newSchema(tInteger) }
func boolean() *schema             { return newSchema(tBoolean) }
func array(items *schema) *schema  { s := newSchema(tArray); s.items = items; return s }
func fld(name string, s *schema) prop {
	return prop{name: name, s: s}
}

func (s *schema) req(names ...string) *schema { s.required = names; return s }
func (s *schema) allowExtra() *schema         { s.open = true; return s }
func (s *schema) orNull() *schema             { s.nullable = true; return s }
func (s *schema) length(lo, hi int) *schema   { s.minLen, s.maxLen = lo, hi; return s }
func (s *schema) count(lo, hi int) *schema    { s.minItems, s.maxItems = lo, hi; return s }
func (s *schema) maxProperties(n int) *schema { s.maxProps = n; return s }
func (s *schema) oneOf(vals ...string) *schema {
	s.enum = vals
	return s
}
func (s *schema) match(pattern string) *schema {
	s.pattern = regexp.MustCompile(pattern)
	return s
}
func (s *schema) between(lo, hi float64) *schema {
	s.min, s.max = &lo, &hi
	return s
}
func (s *schema) atLeast(lo float64) *schema { s.min = &lo; return s }

const (
	maxInt64Schema = 9223372036854776000 // the documents' int64 maximum
	maxExpires     = 4102444800000       // 2100-01-01
)

const (
	keyIDPattern      = `^[a-zA-Z0-9_]+$`
	permissionPattern = `^[a-zA-Z0-9_:\-\.\*]+$`
	externalIDPattern = `^[a-zA-Z0-9_.-]+$`
)

func keyIDSchema() *schema { return str().length(3, 255).match(keyIDPattern) }

// ratelimitRequest is RatelimitRequest; it does not forbid other properties.
func ratelimitRequest() *schema {
	return object(
		fld("name", str().length(3, 128)),
		fld("limit", integer().atLeast(1)),
		fld("duration", integer().atLeast(1000)),
		fld("autoApply", boolean()),
	).req("name", "limit", "duration", "autoApply").allowExtra()
}

func rolesSchema() *schema { return array(str().length(1, 128)).count(-1, 100) }

func permissionsSchema(maxItems int) *schema {
	return array(str().length(1, 128).match(permissionPattern)).count(-1, maxItems)
}

func refillSchema(nullable bool) *schema {
	s := object(
		fld("interval", str().oneOf("daily", "monthly")),
		fld("amount", integer().between(1, maxInt64Schema)),
		fld("refillDay", integer().between(1, 31)),
	).req("interval", "amount")
	s.nullable = nullable
	return s
}

// V2KeysMigrateKeysRequestBody and V2KeysMigrateKeyData.
func migrateKeysSchema() *schema {
	keyData := object(
		fld("hash", str().length(3, -1)),
		fld("name", str().length(1, 255)),
		fld("externalId", str().length(1, 255)),
		fld("meta", anyObject().maxProperties(100)),
		fld("roles", rolesSchema()),
		fld("permissions", permissionsSchema(1000)),
		fld("expires", integer().between(0, maxExpires)),
		fld("enabled", boolean()),
		fld("credits", object( // KeyCreditsData
			fld("remaining", integer().between(0, maxInt64Schema).orNull()),
			fld("refill", refillSchema(false)),
		).req("remaining")),
		fld("ratelimits", array(ratelimitRequest()).count(-1, 50)),
	).req("hash")
	return object(
		fld("migrationId", str().length(3, 255)),
		fld("apiId", str().length(3, 255)),
		fld("keys", array(keyData).count(1, -1)),
	).req("migrationId", "apiId", "keys")
}

func getKeySchema() *schema {
	return object(fld("keyId", keyIDSchema()), fld("decrypt", boolean())).req("keyId")
}

// V2KeysUpdateKeyRequestBody. ratelimits is `type: array` in the document
// (its description says null removes the limits, but the schema, which is
// what Unkey validates, does not allow null); nullRatelimits relaxes it.
func updateKeySchema(nullRatelimits bool) *schema {
	rls := array(ratelimitRequest()).count(-1, 50)
	rls.nullable = nullRatelimits
	return object(
		fld("keyId", keyIDSchema()),
		fld("name", str().length(1, 255).orNull()),
		fld("externalId", str().length(1, 255).match(externalIDPattern).orNull()),
		fld("meta", anyObject().maxProperties(100).orNull()),
		fld("expires", integer().between(0, maxExpires).orNull()),
		fld("credits", object( // UpdateKeyCreditsData
			fld("remaining", integer().between(0, maxInt64Schema).orNull()),
			fld("refill", refillSchema(true)),
		).orNull()),
		fld("ratelimits", rls),
		fld("enabled", boolean()),
		fld("roles", rolesSchema()),
		fld("permissions", permissionsSchema(1000)),
	).req("keyId")
}

func setRolesSchema() *schema {
	return object(fld("keyId", keyIDSchema()), fld("roles", rolesSchema())).req("keyId", "roles")
}

func setPermissionsSchema() *schema {
	return object(fld("keyId", keyIDSchema()), fld("permissions", permissionsSchema(-1))).req("keyId", "permissions")
}

func deleteKeySchema() *schema {
	return object(fld("keyId", keyIDSchema()), fld("permanent", boolean())).req("keyId")
}

func verifyKeySchema() *schema {
	return object(
		fld("key", str().length(1, 512)),
		fld("tags", array(str().length(1, 512)).count(-1, 20)),
		fld("permissions", str().length(1, 1000)),
		fld("credits", object(fld("cost", integer().between(0, 1000000000000))).req("cost")),
		fld("ratelimits", array(object(
			fld("name", str().length(3, 255)),
			fld("cost", integer().atLeast(0)),
			fld("limit", integer().atLeast(0)),
			fld("duration", integer().atLeast(0)),
		).req("name").allowExtra())),
		fld("migrationId", str().length(-1, 256)),
	).req("key")
}

func createAPISchema() *schema {
	return object(fld("name", str().length(3, 256))).req("name")
}

func apiIDSchema() *schema { return str().length(8, 255).match(keyIDPattern) }

func getAPISchema() *schema { return object(fld("apiId", apiIDSchema())).req("apiId") }

func deleteAPISchema() *schema { return object(fld("apiId", apiIDSchema())).req("apiId") }

func listKeysSchema() *schema {
	return object(
		fld("apiId", str().length(1, -1)),
		fld("limit", integer().between(1, 100)),
		fld("cursor", str()),
		fld("externalId", str().length(1, -1)),
		fld("decrypt", boolean()),
		fld("revalidateKeysCache", boolean()),
	).req("apiId")
}

// parseJSON decodes a body into a tree of map[string]any, []any, string,
// json.Number, bool and nil.
func parseJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("unexpected end of JSON input")
		}
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid character after top-level value")
	}
	return v, nil
}

func typeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func fix(s string) *string { return &s }

// validateBody checks a parsed body against a schema and turns the failures
// into Unkey's 400.
func validateBody(s *schema, v any) *problem {
	var errs []fieldError
	s.validate(v, "", "body", &errs)
	if len(errs) == 0 {
		return nil
	}
	detail := "One or more fields failed validation"
	if len(errs) == 1 {
		detail = errs[0].Message
	}
	return badRequest(detail, errs...)
}

// validate appends the failures of v (at JSON pointer ptr, shown as loc).
func (s *schema) validate(v any, ptr, loc string, errs *[]fieldError) {
	add := func(location, msg string, fixText *string) {
		*errs = append(*errs, fieldError{Location: location, Message: msg, Fix: fixText})
	}
	field := lastField(loc)
	if v == nil {
		if !s.nullable {
			want := s.typ.String()
			add(loc, fmt.Sprintf("got null, want %s", want), fix(fmt.Sprintf("The '%s' field must be a %s", field, want)))
		}
		return
	}
	want := s.typ.String()
	if s.nullable {
		want += " or null"
	}
	typeErr := func() {
		add(loc, fmt.Sprintf("got %s, want %s", typeOf(v), want), fix(fmt.Sprintf("The '%s' field must be a %s", field, want)))
	}
	switch s.typ {
	case tObject, tMap:
		m, ok := v.(map[string]any)
		if !ok {
			typeErr()
			return
		}
		s.validateObject(m, ptr, loc, errs)
	case tString:
		str, ok := v.(string)
		if !ok {
			typeErr()
			return
		}
		n := utf8.RuneCountInString(str)
		if s.minLen >= 0 && n < s.minLen {
			add(loc, fmt.Sprintf("minLength: got %d, want %d", n, s.minLen), fix(fmt.Sprintf("The '%s' field value is too short", field)))
		}
		if s.maxLen >= 0 && n > s.maxLen {
			add(loc, fmt.Sprintf("maxLength: got %d, want %d", n, s.maxLen), fix(fmt.Sprintf("The '%s' field value is too long", field)))
		}
		if s.pattern != nil && !s.pattern.MatchString(str) {
			add(loc, fmt.Sprintf("%s does not match pattern %s", quote(str), quote(s.pattern.String())), fix(fmt.Sprintf("The '%s' field does not match the required format", field)))
		}
		if s.enum != nil && !contains(s.enum, str) {
			quoted := make([]string, len(s.enum))
			for i, e := range s.enum {
				quoted[i] = quote(e)
			}
			add(loc, "value must be one of "+strings.Join(quoted, ", "), fix(fmt.Sprintf("The '%s' field must be one of the allowed values", field)))
		}
	case tInteger:
		num, ok := v.(json.Number)
		if !ok {
			typeErr()
			return
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil || f != math.Trunc(f) {
			add(loc, fmt.Sprintf("got number, want %s", want), fix(fmt.Sprintf("The '%s' field must be a %s", field, want)))
			return
		}
		if s.min != nil && f < *s.min {
			add(loc, fmt.Sprintf("minimum: got %v, want %v", f, *s.min), fix(fmt.Sprintf("The '%s' field value is too small", field)))
		}
		if s.max != nil && f > *s.max {
			add(loc, fmt.Sprintf("maximum: got %v, want %v", f, *s.max), fix(fmt.Sprintf("The '%s' field value is too large", field)))
		}
	case tBoolean:
		if _, ok := v.(bool); !ok {
			typeErr()
		}
	case tArray:
		arr, ok := v.([]any)
		if !ok {
			typeErr()
			return
		}
		if s.minItems >= 0 && len(arr) < s.minItems {
			add(loc, fmt.Sprintf("minItems: got %d, want %d", len(arr), s.minItems), fix(fmt.Sprintf("The '%s' array has too few items", field)))
		}
		if s.maxItems >= 0 && len(arr) > s.maxItems {
			add(loc, fmt.Sprintf("maxItems: got %d, want %d", len(arr), s.maxItems), fix(fmt.Sprintf("The '%s' array has too many items", field)))
		}
		for i, item := range arr {
			s.items.validate(item, ptr+"/"+strconv.Itoa(i), loc+"["+strconv.Itoa(i)+"]", errs)
		}
	}
}

func (s *schema) validateObject(m map[string]any, ptr, loc string, errs *[]fieldError) {
	// Required and additional properties are reported at the object, or at
	// the field itself when the object is the body (Unkey's locations).
	at := func(name string) string {
		if ptr == "" {
			return loc + "." + name
		}
		return loc
	}
	var missing []string
	for _, r := range s.required {
		if _, ok := m[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) == 1 {
		*errs = append(*errs, fieldError{Location: at(missing[0]), Message: "missing property " + quote(missing[0]),
			Fix: fix(fmt.Sprintf("Add the '%s' field to your request body", missing[0]))})
	} else if len(missing) > 1 {
		*errs = append(*errs, fieldError{Location: at(missing[0]), Message: "missing properties " + joinQuoted(missing),
			Fix: fix(fmt.Sprintf("Add the '%s' field to your request body", missing[0]))})
	}
	if s.maxProps >= 0 && len(m) > s.maxProps {
		*errs = append(*errs, fieldError{Location: loc, Message: fmt.Sprintf("maxProperties: got %d, want %d", len(m), s.maxProps)})
	}
	if s.typ == tMap {
		return
	}
	if !s.open {
		var extra []string
		for name := range m {
			if !s.declares(name) {
				extra = append(extra, name)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			*errs = append(*errs, fieldError{Location: at(extra[0]), Message: "additional properties " + joinQuoted(extra) + " not allowed",
				Fix: fix(fmt.Sprintf("Remove the '%s' field - it is not allowed", extra[0]))})
		}
	}
	for _, pr := range s.props {
		if v, ok := m[pr.name]; ok {
			pr.s.validate(v, ptr+"/"+pr.name, loc+"."+pr.name, errs)
		}
	}
}

func (s *schema) declares(name string) bool {
	for _, pr := range s.props {
		if pr.name == name {
			return true
		}
	}
	return false
}

func lastField(loc string) string {
	if i := strings.LastIndexAny(loc, ".["); i >= 0 {
		if loc[i] == '[' {
			return lastField(loc[:i])
		}
		return loc[i+1:]
	}
	return loc
}

// quote quotes like the jsonschema library: single quotes, Go escapes.
func quote(s string) string {
	q := strconv.Quote(s)
	q = strings.ReplaceAll(q, `\"`, `"`)
	q = strings.ReplaceAll(q, `'`, `\'`)
	return "'" + q[1:len(q)-1] + "'"
}

func joinQuoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Accessors for a validated body.

func field(m map[string]any, name string) (any, bool) {
	v, ok := m[name]
	return v, ok
}

func strField(m map[string]any, name string) (string, bool) {
	v, ok := m[name].(string)
	return v, ok
}

func boolField(m map[string]any, name string) (bool, bool) {
	v, ok := m[name].(bool)
	return v, ok
}

func objField(m map[string]any, name string) (map[string]any, bool) {
	v, ok := m[name].(map[string]any)
	return v, ok
}

func arrField(m map[string]any, name string) ([]any, bool) {
	v, ok := m[name].([]any)
	return v, ok
}

func intField(m map[string]any, name string) (int64, bool) {
	num, ok := m[name].(json.Number)
	if !ok {
		return 0, false
	}
	return toInt64(num), true
}

func toInt64(num json.Number) int64 {
	if i, err := num.Int64(); err == nil {
		return i
	}
	f, _ := strconv.ParseFloat(string(num), 64)
	if f >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(f)
}

func stringList(v []any) []string {
	out := make([]string, 0, len(v))
	for _, x := range v {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
