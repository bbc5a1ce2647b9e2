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

// Counts is how many refreshes and plans were served since the last Reset,
// and how many of them without the keys map.
func (c *CountingServers) Counts() (reads, readShortcuts, plans, planShortcuts int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.servers {
		reads += s.reads.Load()
		readShortcuts += s.shortcuts.reads.Load()
		plans += s.plans.Load()
		planShortcuts += s.shortcuts.plans.Load()
	}
	return reads, readShortcuts, plans, planShortcuts
}

// ApplyCounts is how many applies were served since the last Reset, and
// how many of them without the keys map.
func (c *CountingServers) ApplyCounts() (applies, applyShortcuts int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.servers {
		applies += s.applies.Load()
		applyShortcuts += s.shortcuts.applies.Load()
	}
	return applies, applyShortcuts
}

// ValidationCounts is how many validations were served since the last
// Reset, and how many of them validated the keys map apart from the
// framework.
func (c *CountingServers) ValidationCounts() (validations, validationShortcuts int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.servers {
		validations += s.validations.Load()
		validationShortcuts += s.shortcuts.validations.Load()
	}
	return validations, validationShortcuts
}

// UpgradeCounts is how many state upgrades were served since the last
// Reset, and how many of them without the framework.
func (c *CountingServers) UpgradeCounts() (upgrades, upgradeShortcuts int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.servers {
		upgrades += s.upgrades.Load()
		upgradeShortcuts += s.shortcuts.upgrades.Load()
	}
	return upgrades, upgradeShortcuts
}

// HeldKeyIDsCount is how many refreshes and plans were served since the
// last Reset with key_ids_json held from the framework.
func (c *CountingServers) HeldKeyIDsCount() (held int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.servers {
		held += s.shortcuts.heldKeyIDs.Load()
	}
	return held
}
