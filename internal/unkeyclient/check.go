package unkeyclient

import (
	"context"
	"sync"
)

// CheckAPI tells whether the root key is valid and the API exists for it,
// asking Unkey (apis.getApi) at most once per API and Client: Terraform runs
// a provider process per command, and a plan's refresh has usually read the
// API already, so checking every planned change costs no extra request.
// It returns GetAPI's error, which a caller may deliberately ignore for a
// 403 (a root key without read_api can still migrate keys).
func (c *Client) CheckAPI(ctx context.Context, apiID string) error {
	chk := c.apiChecks.forAPI(apiID)
	chk.once.Do(func() {
		if last, ok := c.apiChecks.lastSeen(apiID); ok {
			chk.err = last.err
			return
		}
		_, chk.err = c.GetAPI(ctx, apiID)
	})
	return chk.err
}

// apiChecks remembers, per API ID, the outcome of the last apis.getApi and
// the one check CheckAPI makes.
type apiChecks struct {
	mu     sync.Mutex
	last   map[string]getAPIOutcome
	checks map[string]*apiCheck
}

type getAPIOutcome struct{ err error }

type apiCheck struct {
	once sync.Once
	err  error
}

func (a *apiChecks) seen(apiID string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last == nil {
		a.last = map[string]getAPIOutcome{}
	}
	a.last[apiID] = getAPIOutcome{err: err}
}

func (a *apiChecks) lastSeen(apiID string) (getAPIOutcome, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.last[apiID]
	return o, ok
}

func (a *apiChecks) forAPI(apiID string) *apiCheck {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.checks == nil {
		a.checks = map[string]*apiCheck{}
	}
	chk := a.checks[apiID]
	if chk == nil {
		chk = &apiCheck{}
		a.checks[apiID] = chk
	}
	return chk
}
