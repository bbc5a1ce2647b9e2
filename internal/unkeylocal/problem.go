package unkeylocal

import (
	"encoding/json"
	"net/http"
	"strings"
)

// The problem types (RFC 7807 "type" URLs) the server answers with. They are
// Unkey's error codes as documentation URLs, as the real server sends them.
const (
	TypeInvalidInput            = "https://unkey.com/docs/errors/unkey/application/invalid_input"
	TypeUnsupportedMediaType    = "https://unkey.com/docs/errors/unkey/application/unsupported_media_type"
	TypeAuthMalformed           = "https://unkey.com/docs/errors/unkey/authentication/malformed"
	TypeRootKeyNotFound         = "https://unkey.com/docs/errors/unkey/authentication/key_not_found"
	TypeInsufficientPermissions = "https://unkey.com/docs/errors/unkey/authorization/insufficient_permissions"
	TypeAPINotFound             = "https://unkey.com/docs/errors/unkey/data/api_not_found"
	TypeMigrationNotFound       = "https://unkey.com/docs/errors/unkey/data/migration_not_found"
	TypeKeyNotFound             = "https://unkey.com/docs/errors/unkey/data/key_not_found"
	TypeRoleNotFound            = "https://unkey.com/docs/errors/unkey/data/role_not_found"
	TypeRouteNotFound           = "https://unkey.com/docs/errors/unkey/resource/not_found"
	TypeMethodNotAllowed        = "https://unkey.com/docs/errors/unkey/application/method_not_allowed"
	TypeProtectedResource       = "https://unkey.com/docs/errors/unkey/application/protected_resource"
	TypePreconditionFailed      = "https://unkey.com/docs/errors/unkey/application/precondition_failed"
	TypeUnexpectedError         = "https://unkey.com/docs/errors/unkey/application/unexpected_error"
	TypeServiceUnavailable      = "https://unkey.com/docs/errors/unkey/application/service_unavailable"
	TypeWorkspaceRateLimited    = "https://unkey.com/docs/errors/user/too_many_requests/workspace_rate_limited"
	TypePermissionsQuerySyntax  = "https://unkey.com/docs/errors/user/bad_request/permissions_query_syntax_error"
)

// problem is an error answer: an RFC 7807 body in Unkey's envelope.
type problem struct {
	status int
	title  string
	detail string
	typ    string
	errors []fieldError // only sent with 400s
	header http.Header  // extra response headers (Retry-After, ...)
}

// fieldError is one entry of a 400's errors list (Unkey's ValidationError).
type fieldError struct {
	Location string  `json:"location"`
	Message  string  `json:"message"`
	Fix      *string `json:"fix,omitempty"`
}

func (p *problem) Error() string { return p.detail }

// badRequest is a 400 invalid_input. The errors list is always sent, empty
// when the failure is not about particular fields, as Unkey does.
func badRequest(detail string, errs ...fieldError) *problem {
	return &problem{status: 400, title: "Bad Request", detail: detail, typ: TypeInvalidInput, errors: errs}
}

func notFound(typ, detail string) *problem {
	return &problem{status: 404, title: "Not Found", detail: detail, typ: typ}
}

// internalError is Unkey's 500 for an unexpected failure, such as a unique
// constraint violated inside a transaction: its detail is empty.
func internalError() *problem {
	return &problem{status: 500, title: "Internal Server Error", detail: "", typ: TypeUnexpectedError}
}

func precondition(detail string) *problem {
	return &problem{status: 412, title: "Precondition Failed", detail: detail, typ: TypePreconditionFailed}
}

// forbidden is the 403 for a root key that holds none of the permissions.
func forbidden(perms ...string) *problem {
	detail := "Missing one of these permissions: " + strings.Join(perms, " or ")
	return &problem{status: 403, title: "Insufficient Permissions", detail: detail, typ: TypeInsufficientPermissions}
}

func apiNotFound() *problem {
	return notFound(TypeAPINotFound, "The requested API does not exist or has been deleted.")
}

func keyNotFound(detail string) *problem { return notFound(TypeKeyNotFound, detail) }

// problemFor makes a plausible Unkey problem for a bare status code (used by
// injected faults).
func problemFor(status int, detail string) *problem {
	p := &problem{status: status, title: http.StatusText(status), detail: detail, typ: TypeUnexpectedError}
	switch {
	case status == 400:
		p.typ = TypeInvalidInput
	case status == 401:
		p.typ = TypeRootKeyNotFound
	case status == 403:
		p.title, p.typ = "Insufficient Permissions", TypeInsufficientPermissions
	case status == 404:
		p.typ = TypeRouteNotFound
	case status == 412:
		p.typ = TypePreconditionFailed
	case status == 429:
		p.typ = TypeWorkspaceRateLimited
	case status == 503:
		p.typ = TypeServiceUnavailable
	case status < 500:
		p.typ = TypeInvalidInput
	}
	if p.title == "" {
		p.title = "Error"
	}
	return p
}

type meta struct {
	RequestID string `json:"requestId"`
}

type problemBody struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Status int    `json:"status"`
	Type   string `json:"type"`
	// Errors is a pointer so that it can be absent (non-400s) or an empty
	// list (400s that are not about particular fields).
	Errors *[]fieldError `json:"errors,omitempty"`
}

type problemEnvelope struct {
	Meta  meta        `json:"meta"`
	Error problemBody `json:"error"`
}

// marshalProblem renders a problem the way Unkey does; a 400 always has an
// errors list, possibly empty.
func marshalProblem(p *problem) []byte {
	body := problemBody{Title: p.title, Detail: p.detail, Status: p.status, Type: p.typ}
	if p.status == 400 {
		errs := p.errors
		if errs == nil {
			errs = []fieldError{}
		}
		body.Errors = &errs
	}
	out, _ := json.Marshal(problemEnvelope{Meta: meta{RequestID: newRequestID()}, Error: body})
	return out
}

// writeProblem answers with a problem as application/problem+json, as the
// real server does for every error status.
func writeProblem(w http.ResponseWriter, p *problem) int {
	for k, vs := range p.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	return writeRaw(w, p.status, "application/problem+json", marshalProblem(p))
}

func writeRaw(w http.ResponseWriter, status int, contentType string, body []byte) int {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

type dataEnvelope struct {
	Meta meta `json:"meta"`
	Data any  `json:"data"`
}

// page is the data of a paginated answer (apis.listKeys), which puts
// pagination beside data.
type page struct {
	data    any
	hasMore bool
	cursor  string
}

type pagination struct {
	Cursor  string `json:"cursor,omitempty"`
	HasMore bool   `json:"hasMore"`
}

func writeData(w http.ResponseWriter, data any) int {
	var out []byte
	var err error
	if pg, ok := data.(page); ok {
		out, err = json.Marshal(struct {
			Meta       meta       `json:"meta"`
			Data       any        `json:"data"`
			Pagination pagination `json:"pagination"`
		}{meta{newRequestID()}, pg.data, pagination{Cursor: pg.cursor, HasMore: pg.hasMore}})
	} else {
		out, err = json.Marshal(dataEnvelope{Meta: meta{RequestID: newRequestID()}, Data: data})
	}
	if err != nil {
		return writeProblem(w, internalError())
	}
	return writeRaw(w, http.StatusOK, "application/json", out)
}
