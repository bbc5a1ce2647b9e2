package provider

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// CountingServers makes NewServer's servers for acceptance tests and counts
// the refreshes, plans and applies of unkey_key_migration they serve, and
// how many of them they served without the keys map.
type CountingServers struct {
	mu      sync.Mutex
	servers []*countingServer
}

type countingServer struct {
	*keysMapServer
	reads, plans, applies, validations, upgrades atomic.Int64
}

func (s *countingServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	if req.TypeName == keyMigrationTypeName {
		s.validations.Add(1)
	}
	return s.keysMapServer.ValidateResourceConfig(ctx, req)
}

func (s *countingServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	if req.TypeName == keyMigrationTypeName {
		s.upgrades.Add(1)
	}
	return s.keysMapServer.UpgradeResourceState(ctx, req)
}

func (s *countingServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	if req.TypeName == keyMigrationTypeName {
		s.reads.Add(1)
	}
	return s.keysMapServer.ReadResource(ctx, req)
}

func (s *countingServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	if req.TypeName == keyMigrationTypeName {
		s.plans.Add(1)
	}
	return s.keysMapServer.PlanResourceChange(ctx, req)
}

func (s *countingServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	if req.TypeName == keyMigrationTypeName {
		s.applies.Add(1)
	}
	return s.keysMapServer.ApplyResourceChange(ctx, req)
}

// Factory is a provider factory for terraform-plugin-testing.
func (c *CountingServers) Factory() (tfprotov6.ProviderServer, error) {
	s := &countingServer{keysMapServer: NewServer("test")().(*keysMapServer)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.servers = append(c.servers, s)
	return s, nil
}

// Reset forgets every count so far.
func (c *CountingServers) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.servers {
		s.reads.Store(0)
		s.plans.Store(0)
		s.applies.Store(0)
		s.validations.Store(0)
		s.upgrades.Store(0)
		s.shortcuts.upgrades.Store(0)
		s.shortcuts.heldKeyIDs.Store(0)
		s.shortcuts.reads.Store(0)
		s.shortcuts.plans.Store(0)
		s.shortcuts.applies.Store(0)
		s.shortcuts.validations.Store(0)
	}
}

// sum adds up one count over every server made so far.
func (c *CountingServers) sum(count func(*countingServer) *atomic.Int64) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, s := range c.servers {
		n += count(s).Load()
	}
	return n
}

// Counts is how many refreshes and plans were served since the last Reset,
// and how many of them without the keys map.
func (c *CountingServers) Counts() (reads, readShortcuts, plans, planShortcuts int64) {
	return c.sum(func(s *countingServer) *atomic.Int64 { return &s.reads }),
		c.sum(func(s *countingServer) *atomic.Int64 { return &s.shortcuts.reads }),
		c.sum(func(s *countingServer) *atomic.Int64 { return &s.plans }),
		c.sum(func(s *countingServer) *atomic.Int64 { return &s.shortcuts.plans })
}

// ApplyCounts is how many applies were served since the last Reset, and
// how many of them without the keys map.
func (c *CountingServers) ApplyCounts() (applies, applyShortcuts int64) {
	return c.sum(func(s *countingServer) *atomic.Int64 { return &s.applies }),
		c.sum(func(s *countingServer) *atomic.Int64 { return &s.shortcuts.applies })
}

// ValidationCounts is how many validations were served since the last
// Reset, and how many of them validated the keys map apart from the
// framework.
func (c *CountingServers) ValidationCounts() (validations, validationShortcuts int64) {
	return c.sum(func(s *countingServer) *atomic.Int64 { return &s.validations }),
		c.sum(func(s *countingServer) *atomic.Int64 { return &s.shortcuts.validations })
}

// UpgradeCounts is how many state upgrades were served since the last
// Reset, and how many of them without the framework.
func (c *CountingServers) UpgradeCounts() (upgrades, upgradeShortcuts int64) {
	return c.sum(func(s *countingServer) *atomic.Int64 { return &s.upgrades }),
		c.sum(func(s *countingServer) *atomic.Int64 { return &s.shortcuts.upgrades })
}

// HeldKeyIDsCount is how many refreshes and plans were served since the
// last Reset with key_ids_json held from the framework.
func (c *CountingServers) HeldKeyIDsCount() int64 {
	return c.sum(func(s *countingServer) *atomic.Int64 { return &s.shortcuts.heldKeyIDs })
}
