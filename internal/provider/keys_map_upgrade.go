package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// keyMigrationSchemaVersion is unkey_key_migration's schema version: a
// state of another version is the framework's to upgrade.
const keyMigrationSchemaVersion = 0

// UpgradeResourceState hands Terraform a state of unkey_key_migration's
// current schema version as the framework would, without the framework:
// it reads the JSON into tftypes values (three passes over each string
// with encoding/json, most of them over key_ids_json's 8 MB at 100,000
// keys) only to encode them again, about 0.6 s per provider process.
// Anything stateMsgPack does not read exactly as the framework does goes to
// the framework whole.
func (s *keysMapServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	if req == nil || req.TypeName != keyMigrationTypeName || req.Version != keyMigrationSchemaVersion || req.RawState == nil || req.RawState.JSON == nil {
		return s.ProviderServer.UpgradeResourceState(ctx, req)
	}
	packed, ok := stateMsgPack(req.RawState.JSON, keyMigrationType())
	if !ok {
		return s.ProviderServer.UpgradeResourceState(ctx, req)
	}
	s.shortcuts.upgrades.Add(1)
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &tfprotov6.DynamicValue{MsgPack: packed}}, nil
}
