package provider

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

const keyMigrationTypeName = "unkey_key_migration"

// NewServer is the provider's protocol server: the framework's, with
// unkey_key_migration's keys map kept out of the framework's conversions
// where the resource has nothing to do with it (keysMapServer).
func NewServer(version string) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer {
		return &keysMapServer{ProviderServer: providerserver.NewProtocol6(New(version)())()}
	}
}

// keysMapServer serves everything through the framework's server, but
// hides unkey_key_migration's keys map from it in a refresh, which never
// reads keys, and in a plan whose keys are those of the state. The framework
// converts a map of nested objects value by value, both ways, several times
// per request: most of a no-op plan's time at a few thousand keys.
type keysMapServer struct {
	tfprotov6.ProviderServer
	shortcuts shortcutCounts
}

// shortcutCounts counts the requests served without the keys map, for tests.
type shortcutCounts struct {
	reads, plans, validations atomic.Int64
}

// keyMigrationType is unkey_key_migration's Terraform type.
var keyMigrationType = sync.OnceValue(func() tftypes.Object {
	var sch resource.SchemaResponse
	NewKeyMigrationResource().Schema(context.Background(), resource.SchemaRequest{}, &sch)
	// Always an object; were it not, nothing would decode with the empty
	// type and every request would go to the framework untouched.
	typ, _ := sch.Schema.Type().TerraformType(context.Background()).(tftypes.Object)
	return typ
})

func (s *keysMapServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	if req.TypeName != keyMigrationTypeName || req.CurrentState == nil || keysNullInAll(req.CurrentState) {
		return s.ProviderServer.ReadResource(ctx, req)
	}
	typ := keyMigrationType()
	stripped, keys, err := withoutKeys(typ, req.CurrentState)
	if err != nil || keys.IsNull() || !keys.IsKnown() {
		return s.ProviderServer.ReadResource(ctx, req)
	}
	r := *req
	r.CurrentState = stripped
	resp, err := s.ProviderServer.ReadResource(ctx, &r)
	if err != nil || resp == nil || resp.NewState == nil {
		return resp, err
	}
	newState, err := withKeys(typ, resp.NewState, keys)
	if err != nil {
		return s.ProviderServer.ReadResource(ctx, req)
	}
	resp.NewState = newState
	s.shortcuts.reads.Add(1)
	return resp, nil
}

func (s *keysMapServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	if req.TypeName != keyMigrationTypeName || keysNullInAll(req.Config, req.PriorState, req.ProposedNewState) {
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	stripped, keys, hashes, ok := withoutUnchangedKeys(keyMigrationType(), req)
	if !ok {
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	told := &unchangedKeys{hashes: hashes}
	resp, err := s.ProviderServer.PlanResourceChange(context.WithValue(ctx, unchangedKeysKey{}, told), stripped)
	if err != nil || resp == nil || !told.planned {
		// ModifyPlan did not plan the unchanged keys: the full path plans
		// from the whole request, never from the stripped one.
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	if resp.PlannedState != nil {
		planned, err := withKeys(keyMigrationType(), resp.PlannedState, keys)
		if err != nil {
			return s.ProviderServer.PlanResourceChange(ctx, req)
		}
		resp.PlannedState = planned
	}
	s.shortcuts.plans.Add(1)
	return resp, nil
}

// withoutUnchangedKeys is req with keys null in its configuration, prior
// state and proposed new state, when all three hold the same known keys;
// with the keys and their configured hashes. It decodes the prior state
// first, and the configuration last, so that a create or a changed map costs
// as little as it can before going to the framework whole.
func withoutUnchangedKeys(typ tftypes.Object, req *tfprotov6.PlanResourceChangeRequest) (_ *tfprotov6.PlanResourceChangeRequest, keys tftypes.Value, hashes []string, ok bool) {
	if req.Config == nil || req.PriorState == nil || req.ProposedNewState == nil {
		return nil, keys, nil, false
	}
	prior, priorKeys, err := withoutKeys(typ, req.PriorState)
	if err != nil || priorKeys.IsNull() {
		return nil, keys, nil, false
	}
	proposed, keys, err := withoutKeys(typ, req.ProposedNewState)
	if err != nil || !keys.IsFullyKnown() || !keys.Equal(priorKeys) {
		return nil, keys, nil, false
	}
	config, configKeys, err := withoutKeys(typ, req.Config)
	if err != nil || !configKeys.Equal(keys) {
		return nil, keys, nil, false
	}
	if hashes, err = keysOf(configKeys); err != nil {
		return nil, keys, nil, false
	}
	r := *req
	r.Config, r.PriorState, r.ProposedNewState = config, prior, proposed
	return &r, keys, hashes, true
}

// unchangedKeys is what keysMapServer tells ModifyPlan of a plan it took
// the keys map out of, and what ModifyPlan answers.
type unchangedKeys struct {
	hashes  []string // the configured hashes, sorted
	planned bool     // set by planUnchangedKeys when it planned the request
}

type unchangedKeysKey struct{}

// unchangedKeysTold is what keysMapServer told ModifyPlan, or nil.
func unchangedKeysTold(ctx context.Context) *unchangedKeys {
	u, _ := ctx.Value(unchangedKeysKey{}).(*unchangedKeys)
	return u
}

var errNotAnObject = errors.New("not a known object")

// withoutKeys decodes dv as a value of typ and returns it with keys null,
// and the keys it held.
func withoutKeys(typ tftypes.Object, dv *tfprotov6.DynamicValue) (*tfprotov6.DynamicValue, tftypes.Value, error) {
	v, err := dv.Unmarshal(typ)
	if err != nil {
		return nil, tftypes.Value{}, err
	}
	attrs, err := attributesOf(v)
	if err != nil {
		return nil, tftypes.Value{}, err
	}
	keys := attrs["keys"]
	attrs["keys"] = tftypes.NewValue(typ.AttributeTypes["keys"], nil)
	stripped, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, attrs))
	return &stripped, keys, err
}

// withKeys is dv with keys set back to keys; dv unchanged when it is null.
func withKeys(typ tftypes.Object, dv *tfprotov6.DynamicValue, keys tftypes.Value) (*tfprotov6.DynamicValue, error) {
	v, err := dv.Unmarshal(typ)
	if err != nil || v.IsNull() {
		return dv, err
	}
	attrs, err := attributesOf(v)
	if err != nil {
		return nil, err
	}
	attrs["keys"] = keys
	out, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, attrs))
	return &out, err
}

// attributesOf is a copy of the attributes of v, a known object.
func attributesOf(v tftypes.Value) (map[string]tftypes.Value, error) {
	if v.IsNull() || !v.IsKnown() {
		return nil, errNotAnObject
	}
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		return nil, err
	}
	return maps.Clone(attrs), nil
}

// keysOf is the hashes of a known keys map, sorted.
func keysOf(keys tftypes.Value) ([]string, error) {
	var elems map[string]tftypes.Value
	if err := keys.As(&elems); err != nil {
		return nil, err
	}
	return sortedKeys(elems), nil
}
