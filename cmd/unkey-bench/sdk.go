package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	unkey "github.com/unkeyed/sdks/api/go/v2"
	"github.com/unkeyed/sdks/api/go/v2/models/components"
	"github.com/unkeyed/sdks/api/go/v2/retry"

	"github.com/unkeyed/terraform-provider-unkey/internal/keygen"
)

// maxBodyBytes is the largest migrateKeys body sent: Unkey caps bodies at
// 10 MiB; the provider, and so the baselines, stay under 5 MiB.
const maxBodyBytes = 5 << 20

// envelopeBytes is room for {"migrationId":…,"apiId":…,"keys":[…]}.
const envelopeBytes = 512

// sdkKeys are the keys in the SDK's types, with each key's encoded size.
type sdkKeys struct {
	keys  []components.V2KeysMigrateKeyData
	sizes []int
}

// toSDK converts the generated keys to the SDK's request type. This is not
// timed: a raw client would hold its keys in whatever shape it liked.
func toSDK(keys []keygen.MigrateKey) (sdkKeys, error) {
	out := sdkKeys{keys: make([]components.V2KeysMigrateKeyData, len(keys)), sizes: make([]int, len(keys))}
	for i, k := range keys {
		b, err := json.Marshal(k)
		if err != nil {
			return out, err
		}
		out.sizes[i] = len(b) + 1 // and a comma
		d := components.V2KeysMigrateKeyData{
			Hash: k.Hash, Name: k.Name, ExternalID: k.ExternalID, Roles: k.Roles, Permissions: k.Permissions,
			Expires: k.Expires, Enabled: ptr(k.Enabled),
		}
		if k.Meta != nil {
			if err := json.Unmarshal(k.Meta, &d.Meta); err != nil {
				return out, err
			}
		}
		if c := k.Credits; c != nil {
			d.Credits = &components.KeyCreditsData{Remaining: ptr(c.Remaining)}
			if r := c.Refill; r != nil {
				d.Credits.Refill = &components.KeyCreditsRefill{
					Interval: components.KeyCreditsRefillInterval(r.Interval), Amount: r.Amount, RefillDay: r.RefillDay,
				}
			}
		}
		for _, rl := range k.Ratelimits {
			d.Ratelimits = append(d.Ratelimits, components.RatelimitRequest{
				Name: rl.Name, Limit: rl.Limit, Duration: rl.Duration, AutoApply: ptr(rl.AutoApply),
			})
		}
		out.keys[i] = d
	}
	return out, nil
}

// splitBatches cuts keys of the given encoded sizes into consecutive
// batches of at most maxKeys keys and maxBytes bytes (a key bigger than
// maxBytes goes alone). It returns [start, end) pairs.
func splitBatches(sizes []int, maxKeys, maxBytes int) [][2]int {
	var out [][2]int
	start, bytes := 0, 0
	for i, s := range sizes {
		if i > start && (i-start >= maxKeys || bytes+s > maxBytes) {
			out = append(out, [2]int{start, i})
			start, bytes = i, 0
		}
		bytes += s
	}
	if start < len(sizes) {
		out = append(out, [2]int{start, len(sizes)})
	}
	return out
}

// sdkResult is one SDK baseline run.
type sdkResult struct {
	N, Batch, Conc int
	Requests       int
	Wall           time.Duration
	Err            error
}

// runSDK migrates keys into a fresh local API with the official SDK, in
// batches of batch keys with conc requests in flight, and checks that every
// key arrived. Only the sending is timed.
func runSDK(keys sdkKeys, batch, conc int) sdkResult {
	res := sdkResult{N: len(keys.keys), Batch: batch, Conc: conc}
	api, err := startLocalAPI()
	if err != nil {
		res.Err = err
		return res
	}
	defer api.Close()
	transport := &http.Transport{}
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		transport = t.Clone()
	}
	transport.MaxIdleConnsPerHost = max(conc, 2)
	sdk := unkey.New(
		unkey.WithServerURL(api.url),
		unkey.WithSecurity(api.seed.RootKey),
		unkey.WithClient(&http.Client{Transport: transport, Timeout: 5 * time.Minute}),
		unkey.WithRetryConfig(retry.Config{Strategy: "none"}),
	)
	batches := splitBatches(keys.sizes, batch, maxBodyBytes-envelopeBytes)
	res.Requests = len(batches)

	ctx := context.Background()
	work := make(chan [2]int)
	errs := make(chan error, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if err := sendBatch(ctx, sdk, api, keys.keys[b[0]:b[1]]); err != nil {
					errs <- err
					for range work { //nolint:revive // drain so the feeder ends
					}
					return
				}
			}
		}()
	}
	for _, b := range batches {
		work <- b
	}
	close(work)
	wg.Wait()
	res.Wall = time.Since(start)
	close(errs)
	res.Err = errors.Join(collect(errs)...)
	if res.Err == nil && api.srv.KeyCount() != len(keys.keys) {
		res.Err = fmt.Errorf("the server holds %d keys, want %d", api.srv.KeyCount(), len(keys.keys))
	}
	return res
}

func sendBatch(ctx context.Context, sdk *unkey.Unkey, api *localAPI, keys []components.V2KeysMigrateKeyData) error {
	resp, err := sdk.Keys.MigrateKeys(ctx, components.V2KeysMigrateKeysRequestBody{
		MigrationID: api.seed.MigrationID, APIID: api.seed.APIID, Keys: keys,
	})
	if err != nil {
		return err
	}
	body := resp.GetV2KeysMigrateKeysResponseBody()
	if body == nil {
		return errors.New("migrateKeys: no body")
	}
	if got := len(body.Data.GetMigrated()); got != len(keys) || len(body.Data.GetFailed()) > 0 {
		return fmt.Errorf("migrateKeys: %d of %d migrated, %d failed", got, len(keys), len(body.Data.GetFailed()))
	}
	return nil
}

func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		out = append(out, err)
	}
	return out
}

func ptr[T any](v T) *T { return &v }
