package unkeyclient

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	unkey "github.com/unkeyed/sdks/api/go/v2"
	"github.com/unkeyed/sdks/api/go/v2/models/components"
	"github.com/unkeyed/sdks/api/go/v2/models/operations"
	"github.com/unkeyed/sdks/api/go/v2/retry"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// answerAs serves one fixed 200 answer to every request.
type answerAs string

func (a answerAs) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader([]byte(a))), ContentLength: int64(len(a))}, nil
}

// sdkReads is the SDK's own reading of a keys.migrateKeys answer.
func sdkReads(body string) (*operations.KeysMigrateKeysResponse, error) {
	sdk := unkey.New(unkey.WithServerURL("http://127.0.0.1:1"), unkey.WithSecurity("unkey_test"),
		unkey.WithClient(&http.Client{Transport: answerAs(body)}), unkey.WithRetryConfig(retry.Config{Strategy: "none"}))
	return sdk.Keys.MigrateKeys(context.Background(), components.V2KeysMigrateKeysRequestBody{MigrationID: "mig_1", APIID: "api_1", Keys: []components.V2KeysMigrateKeyData{}})
}

// Whatever decodeMigrateAnswerFast reads, the SDK reads the same, without
// error: the fast path never trusts an answer the SDK would refuse.
func FuzzMigrateAnswerFast(f *testing.F) {
	for _, seed := range []string{
		`{"meta":{"requestId":"req_1"},"data":{"migrated":[{"hash":"h1","keyId":"key_1"},{"hash":"h2","keyId":"key_2"}],"failed":null}}`,
		`{"data":{"failed":["h3"],"migrated":[]},"meta":{"requestId":"req_2"}}`,
		` { "meta" : { "requestId" : "" } , "data" : { "migrated" : [ ] } } `,
		`{"meta":{"requestId":"req_1"},"data":{"migrated":[{"keyId":"key_1"}]}}`, `{"meta":{},"data":{"migrated":[]}}`,
		`{"meta":{"requestId":"req_1"},"data":{}}`, `{"meta":{"requestId":"req_1"}}`, `{"data":{"migrated":[]}}`,
		`{"meta":{"requestId":"req_1","x":1},"data":{"migrated":[]}}`, `{"meta":{"requestId":"a\u00e9"},"data":{"migrated":null}}`,
		`{"meta":{"requestId":"r"},"data":{"migrated":[],"failed":[null]}}`, `{"meta":{"requestId":"r"},"data":{"migrated":[]}}x`,
		emptyMigrateAnswer,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, ok := decodeMigrateAnswerFast(body)
		if !ok {
			return
		}
		resp, err := sdkReads(body)
		if err != nil || resp.V2KeysMigrateKeysResponseBody == nil {
			t.Fatalf("%q: the fast path read what the SDK refuses: %v", body, err)
		}
		if want := *resp.V2KeysMigrateKeysResponseBody; !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: read differently:\nfast %#v\nSDK  %#v", body, got, want)
		}
	})
}

// The local API's answers (written as Unkey writes them) take the fast
// path, and what the SDK is handed instead reads as an answer about nothing.
func TestMigrateAnswerFastTakesUnkeysAnswers(t *testing.T) {
	srv, url := unkeylocal.StartTestServer(t, unkeylocal.Options{})
	seed := srv.SeedDefault()
	for _, hash := range []string{"v6dAd4JqF/wmLHanQC3ZIbD35futRG7QDTqOnqEH/vc=", "v6dAd4JqF/wmLHanQC3ZIbD35futRG7QDTqOnqEH/vc="} { // migrated, then failed
		req, _ := http.NewRequest(http.MethodPost, url+"/v2/keys.migrateKeys", strings.NewReader(
			fmt.Sprintf(`{"migrationId":%q,"apiId":%q,"keys":[{"hash":%q}]}`, seed.MigrationID, seed.APIID, hash)))
		req.Header.Set("Authorization", "Bearer "+seed.RootKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if _, ok := decodeMigrateAnswerFast(string(body)); resp.StatusCode != 200 || !ok {
			t.Fatalf("the answer %d %s fell back to the SDK's decoding", resp.StatusCode, body)
		}
	}
	resp, err := sdkReads(emptyMigrateAnswer)
	if err != nil || resp.V2KeysMigrateKeysResponseBody == nil || len(resp.V2KeysMigrateKeysResponseBody.Data.Migrated)+len(resp.V2KeysMigrateKeysResponseBody.Data.Failed) != 0 {
		t.Fatalf("the SDK reads the empty answer as %+v, %v", resp, err)
	}
}
