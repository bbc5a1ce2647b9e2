package unkeyclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// APIError is an answer from Unkey with an error status, read from its
// RFC 7807 body when it has one.
type APIError struct {
	Operation string
	Status    int
	Title     string
	Detail    string
	Type      string
	RequestID string
	// Body holds the start of a body that was not an Unkey problem object
	// (an HTML page from a proxy, for example), and Server the API URL that
	// answered it.
	Body   string
	Server string
	// RootKeySource says where the root key came from, for a 401's hint.
	RootKeySource string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: Unkey answered %d %s", e.Operation, e.Status, statusTitle(e.Status, e.Title))
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	} else if e.Body != "" {
		fmt.Fprintf(&b, " with a body that is not an Unkey error object: %q", e.Body)
		if e.Server != "" {
			fmt.Fprintf(&b, ", from %s", e.Server)
		}
	}
	var refs []string
	if e.Type != "" {
		refs = append(refs, "type "+e.Type)
	}
	if e.RequestID != "" {
		refs = append(refs, "request ID "+e.RequestID)
	}
	if len(refs) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(refs, ", "))
	}
	if hint := e.hint(); hint != "" {
		b.WriteString(". ")
		b.WriteString(hint)
	}
	return b.String()
}

func statusTitle(status int, title string) string {
	if title != "" {
		return title
	}
	return http.StatusText(status)
}

// IsNotFound reports whether err is a 404 from Unkey.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsForbidden reports whether err is a 403 from Unkey.
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

func hasStatus(err error, status int) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status == status
}

// IsMigrationNotFound reports whether err says the migration ID is unknown.
func (e *APIError) IsMigrationNotFound() bool {
	return e.Status == http.StatusNotFound && strings.Contains(e.Type, "migration_not_found")
}

// IsAPINotFound reports whether err says the API is unknown to the root key.
func (e *APIError) IsAPINotFound() bool {
	return e.Status == http.StatusNotFound && strings.Contains(e.Type, "api_not_found")
}

// IsKeyNotFound reports whether err says the key is unknown to the root key
// (deleted, or of another workspace).
func (e *APIError) IsKeyNotFound() bool {
	return e.Status == http.StatusNotFound && strings.Contains(e.Type, "key_not_found")
}

// PermissionsDocs is where the provider's documentation lists the root key
// permissions each operation needs.
const PermissionsDocs = "https://registry.terraform.io/providers/unkeyed/unkey/latest/docs#root-key-permissions"

// MissingPermissions is what a 403 from Unkey says the root key lacks, as
// Unkey words it ("api.*.create_key or api.api_123.create_key"); "" when
// the answer does not say.
func (e *APIError) MissingPermissions() string {
	if e.Status != http.StatusForbidden {
		return ""
	}
	for _, prefix := range []string{"Missing one of these permissions:", "Missing permissions:", "Missing permission:"} {
		if i := strings.Index(e.Detail, prefix); i >= 0 {
			rest := strings.TrimSpace(e.Detail[i+len(prefix):])
			if j := strings.Index(rest, "; "); j >= 0 {
				rest = rest[:j] // a field error appended by apiErrorFrom
			}
			return strings.TrimSuffix(rest, ".")
		}
	}
	return ""
}

func forbiddenHint(missing string) string {
	what := "the permission named above"
	if missing != "" {
		what = missing
		if strings.Contains(missing, " or ") {
			what = "one of " + missing
		}
	}
	return fmt.Sprintf("The root key lacks %s: add it to the root key in the Unkey dashboard, or use a root key that has it. "+
		"The permissions each operation of this provider needs are listed under \"Root key permissions\" in its documentation (%s)", what, PermissionsDocs)
}

func (e *APIError) hint() string {
	switch {
	case e.Status == http.StatusUnauthorized:
		if e.RootKeySource != "" {
			return "Check the provider's root key (" + e.RootKeySource + "): Unkey does not know it"
		}
		return "Check the provider's root key (root_key, UNKEY_ROOT_KEY or the Unkey CLI config file): Unkey does not know it"
	case e.Status == http.StatusForbidden:
		return forbiddenHint(e.MissingPermissions())
	case e.IsMigrationNotFound():
		return "Check migration_id: migration IDs are created for your workspace by Unkey support"
	case e.IsAPINotFound() && e.Operation == "keys.createKey":
		return "Check api_id: either the API was deleted, or the root key belongs to another Unkey workspace than the API, " +
			"or the root key lacks api.*.create_key (or api.<apiId>.create_key): keys.createKey answers all three the same way. " +
			"The permissions each operation of this provider needs are listed under \"Root key permissions\" in its documentation (" + PermissionsDocs + ")"
	case e.IsAPINotFound():
		return "Check api_id: either the API was deleted, or the root key belongs to another Unkey workspace than the API " +
			"(Unkey answers both the same way)"
	case strings.Contains(e.Type, "role_not_found"):
		return "keys.setRoles only assigns roles that exist: create the role in the Unkey dashboard first (keys.migrateKeys creates missing roles, updates do not)"
	case strings.Contains(e.Type, "protected_resource"):
		return "Turn off delete protection for it in the Unkey dashboard first"
	case e.Status == http.StatusTooManyRequests:
		return "Unkey is rate limiting this workspace; wait and apply again"
	}
	return ""
}

// UnreadableAnswerError is a success status whose body could not be used.
// For a write it means the request was most likely carried out.
type UnreadableAnswerError struct {
	Operation string
	Status    int
	RequestID string
	Reason    string
	BodyStart string
	Server    string
}

func (e *UnreadableAnswerError) Error() string {
	msg := fmt.Sprintf("%s: Unkey answered %d but the answer could not be used: %s", e.Operation, e.Status, e.Reason)
	if e.RequestID != "" {
		msg += " (request ID " + e.RequestID + ")"
	}
	if e.BodyStart != "" {
		msg += fmt.Sprintf("; the answer began %q", e.BodyStart)
	}
	if strings.HasPrefix(e.BodyStart, "<") && e.Server != "" {
		msg += fmt.Sprintf(". It looks like a web page, not Unkey's API: check the API URL, %s", e.Server)
	}
	return msg
}

// TransportError means no answer came back. Sent tells whether the request
// had been written in full, so that Unkey may have carried it out.
type TransportError struct {
	Operation string
	Sent      bool
	Err       error
	// Server is the API URL and where it came from; Hint, when set, says
	// why the failure is not retried and what to check.
	Server string
	Hint   string
}

func (e *TransportError) Error() string {
	var msg string
	if e.Sent {
		msg = fmt.Sprintf("%s: the request was sent but no answer came back from %s: %v", e.Operation, e.Server, e.Err)
	} else {
		msg = fmt.Sprintf("%s: could not reach Unkey at %s: %v", e.Operation, e.Server, e.Err)
	}
	if e.Hint != "" {
		msg += ". " + e.Hint
	}
	return msg
}

// NotUnkeyError is an error status whose body is not Unkey's error object:
// a web server's or proxy's page, so most likely the API URL is wrong. It is
// deliberately not an APIError, so that a 404 page is never taken for
// Unkey's "not found".
type NotUnkeyError struct {
	Operation string
	Status    int
	Server    string
	BodyStart string
}

func (e *NotUnkeyError) Error() string {
	msg := fmt.Sprintf("%s: the server at %s answered %d %s", e.Operation, e.Server, e.Status, http.StatusText(e.Status))
	if e.BodyStart != "" {
		msg += fmt.Sprintf(" with a body that is not an Unkey error object (%q)", e.BodyStart)
	} else {
		msg += " without Unkey's error object"
	}
	return msg + ". This is not an answer of Unkey's API: check the API URL (or a proxy between here and Unkey). Not retried"
}

func (e *TransportError) Unwrap() error { return e.Err }

type problemBody struct {
	Meta struct {
		RequestID string `json:"requestId"`
	} `json:"meta"`
	Error *struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Type   string `json:"type"`
		Status int    `json:"status"`
		Errors []struct {
			Location string `json:"location"`
			Message  string `json:"message"`
		} `json:"errors"`
	} `json:"error"`
}

// apiErrorFrom reads an error answer; ok is false when the body is not an
// Unkey error object.
func apiErrorFrom(op string, ex *exchange) (apiErr *APIError, ok bool) {
	apiErr = &APIError{Operation: op, Status: ex.status}
	var p problemBody
	if err := json.Unmarshal(ex.errorBody, &p); err != nil || p.Error == nil || (p.Error.Type == "" && p.Error.Title == "") {
		apiErr.Body = truncate(string(ex.errorBody), 200)
		return apiErr, false
	}
	apiErr.Title, apiErr.Detail, apiErr.Type = p.Error.Title, p.Error.Detail, p.Error.Type
	apiErr.RequestID = p.Meta.RequestID
	for _, fe := range p.Error.Errors {
		apiErr.Detail += fmt.Sprintf("; %s: %s", fe.Location, fe.Message)
	}
	return apiErr, true
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ScrubbedError carries an error whose text has had the root key removed.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

var errNoBody = errors.New("the answer has no body")

// countOf writes a count with its noun: "1 hash", "2 hashes".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
