package unkeyclient

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"

	"github.com/unkeyed/sdks/api/go/v2/models/components"
)

// exchange is what the transport saw of one HTTP attempt. The SDK turns
// responses into typed errors that drop headers (Retry-After) and, for
// application/problem+json bodies, the parsed problem; the transport keeps
// both so that errors and retries are decided from what really happened.
type exchange struct {
	wroteRequest bool
	status       int
	header       http.Header
	errorBody    []byte // whole body of a non-2xx answer (capped)
	bodyPrefix   *prefixReader
	transportErr error
	// migrateAnswer is a keys.migrateKeys answer read by
	// decodeMigrateAnswerFast; the SDK was handed an empty one instead.
	migrateAnswer *components.V2KeysMigrateKeysResponseBody
}

// bodyStart returns the first bytes of a 2xx body, for error messages about
// answers that could not be read.
func (e *exchange) bodyStart() []byte {
	if e.bodyPrefix == nil {
		return nil
	}
	return e.bodyPrefix.prefix.Bytes()
}

type exchangeKey struct{}
type nullFieldsKey struct{}
type bodyKey struct{}
type fastMigrateAnswerKey struct{}

// withFastMigrateAnswer makes the transport read a 2xx answer to
// keys.migrateKeys itself when it can (decodeMigrateAnswerFast), leaving it
// in the exchange.
func withFastMigrateAnswer(ctx context.Context) context.Context {
	return context.WithValue(ctx, fastMigrateAnswerKey{}, true)
}

// migrateAnswerRead is the answer the transport read for the SDK, if any.
func migrateAnswerRead(ctx context.Context) *components.V2KeysMigrateKeysResponseBody {
	if ex, ok := ctx.Value(exchangeKey{}).(*exchange); ok {
		return ex.migrateAnswer
	}
	return nil
}

// withBody makes the transport send body instead of the SDK's encoding of
// the request: for migrateKeys, whose keys the client has already encoded.
func withBody(ctx context.Context, body []byte) context.Context {
	return context.WithValue(ctx, bodyKey{}, body)
}

func withExchange(ctx context.Context) (context.Context, *exchange) {
	ex := &exchange{}
	return context.WithValue(ctx, exchangeKey{}, ex), ex
}

// withNullFields makes the transport send the named top-level JSON fields as
// null. The SDK omits nil fields, but Unkey's update endpoints clear a value
// only when it is sent as an explicit null.
func withNullFields(ctx context.Context, fields []string) context.Context {
	if len(fields) == 0 {
		return ctx
	}
	return context.WithValue(ctx, nullFieldsKey{}, fields)
}

const maxErrorBody = 1 << 20

type observingTransport struct {
	next      http.RoundTripper
	userAgent string
	answered  *atomic.Bool
}

func (t *observingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	req = req.Clone(ctx)
	if t.userAgent != "" {
		req.Header.Set("User-Agent", t.userAgent)
	}
	if body, ok := ctx.Value(bodyKey{}).([]byte); ok {
		replaceBody(req, body)
	}
	if fields, ok := ctx.Value(nullFieldsKey{}).([]string); ok {
		if err := setNullFields(req, fields); err != nil {
			return nil, err
		}
	}
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	if ex == nil {
		return t.next.RoundTrip(req)
	}
	*ex = exchange{}
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { ex.wroteRequest = true }}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))

	resp, err := t.next.RoundTrip(req)
	if err != nil {
		ex.transportErr = err
		return nil, err
	}
	t.answered.Store(true)
	ex.status = resp.StatusCode
	ex.header = resp.Header.Clone()
	if resp.StatusCode >= 300 {
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		if readErr != nil {
			ex.transportErr = readErr
			return nil, readErr
		}
		ex.errorBody = body
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	}
	ex.bodyPrefix = &prefixReader{ReadCloser: resp.Body}
	resp.Body = ex.bodyPrefix
	if ctx.Value(fastMigrateAnswerKey{}) != nil {
		return readMigrateAnswer(resp, ex)
	}
	return resp, nil
}

// emptyMigrateAnswer is what the SDK decodes when the transport has read
// the answer itself.
const emptyMigrateAnswer = `{"meta":{"requestId":"read by the provider"},"data":{"migrated":[]}}`

// readMigrateAnswer reads a 2xx answer to keys.migrateKeys; when it is in
// the plain form, the exchange keeps it and the SDK gets an empty one, else
// the SDK gets the answer as it came.
func readMigrateAnswer(resp *http.Response, ex *exchange) (*http.Response, error) {
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		ex.transportErr = err
		return nil, err
	}
	if a, ok := decodeMigrateAnswerFast(string(body)); ok {
		ex.migrateAnswer = &a
		body = []byte(emptyMigrateAnswer)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

func setNullFields(req *http.Request, fields []string) error {
	if req.Body == nil {
		return nil
	}
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		return err
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		return err
	}
	for _, f := range fields {
		body[f] = json.RawMessage("null")
	}
	out, err := json.Marshal(body)
	if err != nil {
		return err
	}
	replaceBody(req, out)
	return nil
}

func replaceBody(req *http.Request, body []byte) {
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

// prefixReader keeps the first bytes read through it.
type prefixReader struct {
	io.ReadCloser
	prefix bytes.Buffer
}

const keptPrefix = 512

func (p *prefixReader) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	if room := keptPrefix - p.prefix.Len(); room > 0 && n > 0 {
		p.prefix.Write(b[:min(n, room)])
	}
	return n, err
}

func parseIP(host string) net.IP { return net.ParseIP(host) }
