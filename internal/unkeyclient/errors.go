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
	// (an HTML page from a proxy, for example).
	Body string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: Unkey answered %d %s", e.Operation, e.Status, statusTitle(e.Status, e.Title))
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	} else if e.Body != "" {
		fmt.Fprintf(&b, " with a body that is not an Unkey error object: %q", e.Body)
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

func (e *APIError) hint() string {
	switch {
	case e.Status == http.StatusUnauthorized:
		return "Check the provider's root key (root_key, UNKEY_ROOT_KEY or the Unkey CLI config file): Unkey does not know it"
	case e.Status == http.StatusForbidden:
		return "Give the root key the permission named above in the Unkey dashboard, or use a root key that has it"
	case e.IsMigrationNotFound():
		return "Check migration_id: migration IDs are created for your workspace by Unkey support"
	case e.Status == http.StatusNotFound && strings.Contains(e.Type, "api_not_found"):
		return "Check api_id: the API must exist in the root key's workspace"
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
}

func (e *UnreadableAnswerError) Error() string {
	msg := fmt.Sprintf("%s: Unkey answered %d but the answer could not be used: %s", e.Operation, e.Status, e.Reason)
	if e.RequestID != "" {
		msg += " (request ID " + e.RequestID + ")"
	}
	if e.BodyStart != "" {
		msg += fmt.Sprintf("; the answer began %q", e.BodyStart)
	}
	return msg
}

// TransportError means no answer came back. Sent tells whether the request
// had been written in full, so that Unkey may have carried it out.
type TransportError struct {
	Operation string
	Sent      bool
	Err       error
}

func (e *TransportError) Error() string {
	if e.Sent {
		return fmt.Sprintf("%s: the request was sent but no answer came back: %v", e.Operation, e.Err)
	}
	return fmt.Sprintf("%s: could not reach Unkey: %v", e.Operation, e.Err)
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

func apiErrorFrom(op string, ex *exchange) *APIError {
	apiErr := &APIError{Operation: op, Status: ex.status}
	var p problemBody
	if err := json.Unmarshal(ex.errorBody, &p); err != nil || p.Error == nil {
		apiErr.Body = truncate(string(ex.errorBody), 200)
		return apiErr
	}
	apiErr.Title, apiErr.Detail, apiErr.Type = p.Error.Title, p.Error.Detail, p.Error.Type
	apiErr.RequestID = p.Meta.RequestID
	for _, fe := range p.Error.Errors {
		apiErr.Detail += fmt.Sprintf("; %s: %s", fe.Location, fe.Message)
	}
	return apiErr
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
