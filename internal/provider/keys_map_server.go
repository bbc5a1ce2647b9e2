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
// (keysMapServer).
func NewServer(version string) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer {
		return &keysMapServer{ProviderServer: providerserver.NewProtocol6(New(version)())()}
	}
}

// keysMapServer serves everything through the framework's server, but
// hides unkey_key_migration's keys map from it in a refresh, which never
// reads keys, and in its plans and applies, whose keys it hands the resource
// itself (keysTold) and puts back into the answer. The framework converts a
// map of nested objects value by value, both ways, several times per
// request: most of a plan's and an apply's time at a few thousand keys.
// The keys schema has nothing computed, defaulted or plan-modified, so the
// framework always plans the proposed keys; anything the resource cannot
// read without the framework is served whole.
type keysMapServer struct {
	tfprotov6.ProviderServer
	shortcuts shortcutCounts
}

// shortcutCounts counts the requests served without the keys map (and
// the state upgrades served without the framework), for tests.
type shortcutCounts struct {
	reads, plans, applies, validations, upgrades atomic.Int64
	heldKeyIDs                                   atomic.Int64 // refreshes and plans served without key_ids_json
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
	if req.TypeName != keyMigrationTypeName || req.CurrentState == nil {
		return s.ProviderServer.ReadResource(ctx, req)
	}
	if keysNullInAll(req.CurrentState) {
		return s.readHoldingKeyIDs(ctx, req)
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
	if req.TypeName != keyMigrationTypeName {
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	if keysNullInAll(req.Config, req.PriorState, req.ProposedNewState) {
		return s.planHoldingKeyIDs(ctx, req)
	}
	stripped, told, ok := planWithoutKeys(keyMigrationType(), req)
	if !ok {
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	resp, err := s.ProviderServer.PlanResourceChange(withKeysTold(ctx, told), stripped)
	if err != nil || resp == nil || told.declined {
		// ModifyPlan could not read the keys without the framework: the
		// whole request is planned again, never anything from the stripped one.
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	if resp.PlannedState != nil {
		planned, err := withKeys(keyMigrationType(), resp.PlannedState, told.planned)
		if err != nil {
			return s.ProviderServer.PlanResourceChange(ctx, req)
		}
		resp.PlannedState = planned
	}
	s.shortcuts.plans.Add(1)
	return resp, nil
}

// planWithoutKeys is req with keys null in its configuration and proposed
// new state, and in its prior state null when the keys did not change and
// an empty map when they did (so that the framework still sees the change
// and plans the computed attributes unknown as it would). It declines a
// request without a keys map, and one whose keys are not all known.
// It decodes the prior state first, and the configuration last, so that a
// request it declines costs as little as it can.
func planWithoutKeys(typ tftypes.Object, req *tfprotov6.PlanResourceChangeRequest) (_ *tfprotov6.PlanResourceChangeRequest, _ *keysTold, ok bool) {
	if req.Config == nil || req.PriorState == nil || req.ProposedNewState == nil {
		return nil, nil, false
	}
	prior, priorKeys, err := withoutKeys(typ, req.PriorState)
	if err != nil {
		return nil, nil, false
	}
	priorExists := priorKeys.Type() != nil
	proposed, keys, err := withoutKeys(typ, req.ProposedNewState)
	keys, priorKeys = keysOrNull(typ, keys), keysOrNull(typ, priorKeys)
	if err != nil || !keys.IsFullyKnown() || (priorKeys.IsNull() && keys.IsNull()) {
		return nil, nil, false
	}
	config, configKeys, err := withoutKeys(typ, req.Config)
	if err != nil || !keysOrNull(typ, configKeys).Equal(keys) {
		return nil, nil, false
	}
	told := &keysTold{prior: priorKeys, planned: keys}
	if told.unchanged = priorExists && keys.Equal(priorKeys); told.unchanged {
		if told.hashes, err = keysOf(keys); err != nil {
			return nil, nil, false
		}
	} else if priorExists {
		if prior, err = withStandIn(typ, prior); err != nil {
			return nil, nil, false
		}
	}
	r := *req
	r.Config, r.PriorState, r.ProposedNewState = config, prior, proposed
	return &r, told, true
}

// withStandIn is a stripped prior state whose keys are an empty map
// instead of null: it differs from the stripped plan where the keys do.
func withStandIn(typ tftypes.Object, dv *tfprotov6.DynamicValue) (*tfprotov6.DynamicValue, error) {
	return withKeys(typ, dv, tftypes.NewValue(typ.AttributeTypes["keys"], map[string]tftypes.Value{}))
}

func (s *keysMapServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	if req.TypeName != keyMigrationTypeName || keysNullInAll(req.Config, req.PriorState, req.PlannedState) {
		return s.ProviderServer.ApplyResourceChange(ctx, req)
	}
	typ := keyMigrationType()
	stripped, told, ok := applyWithoutKeys(typ, req)
	if !ok {
		return s.ProviderServer.ApplyResourceChange(ctx, req)
	}
	resp, err := s.ProviderServer.ApplyResourceChange(withKeysTold(ctx, told), stripped)
	if err != nil || resp == nil || resp.NewState == nil {
		return resp, err
	}
	left := told.prior // Update leaves the prior state when it sets none
	if told.left != nil {
		left = told.left.value
	}
	if newState, err := withKeys(typ, resp.NewState, left); err == nil {
		resp.NewState = newState
		s.shortcuts.applies.Add(1)
	} else {
		// Not served again: the apply has happened. Never seen; a bug if it is.
		resp.Diagnostics = append(resp.Diagnostics, keysNotSplicedBug(err))
	}
	return resp, nil
}

func keysNotSplicedBug(err error) *tfprotov6.Diagnostic {
	return &tfprotov6.Diagnostic{
		Severity: tfprotov6.DiagnosticSeverityError, Summary: "Could not save the keys map",
		Detail: "This is a bug in the provider: " + err.Error(),
	}
}

// applyWithoutKeys is a create's or an update's req with keys null, and
// the keys of its prior and planned state read for Create and Update. It
// declines a destroy, a request without a keys map, and keys the resource
// cannot read without the framework (it must decline before applying).
func applyWithoutKeys(typ tftypes.Object, req *tfprotov6.ApplyResourceChangeRequest) (_ *tfprotov6.ApplyResourceChangeRequest, _ *keysTold, ok bool) {
	if req.Config == nil || req.PriorState == nil || req.PlannedState == nil {
		return nil, nil, false
	}
	planned, keys, err := withoutKeys(typ, req.PlannedState)
	if err != nil || keys.Type() == nil {
		return nil, nil, false // a destroy, or unreadable
	}
	prior, priorKeys, err := withoutKeys(typ, req.PriorState)
	if err != nil {
		return nil, nil, false
	}
	priorKeys = keysOrNull(typ, priorKeys)
	if priorKeys.IsNull() && keys.IsNull() {
		return nil, nil, false
	}
	config, _, err := withoutKeys(typ, req.Config)
	if err != nil {
		return nil, nil, false
	}
	told := &keysTold{prior: priorKeys, planned: keys}
	if !told.read() {
		return nil, nil, false
	}
	r := *req
	r.Config, r.PriorState, r.PlannedState = config, prior, planned
	return &r, told, true
}

// keysTold is what keysMapServer tells the resource of a request it took
// the keys map out of, and what the resource answers.
type keysTold struct {
	prior, planned tftypes.Value // the keys maps of the prior state and of the plan, null when absent
	unchanged      bool          // a plan whose keys are the prior state's
	hashes         []string      // then, the configured hashes, sorted

	readOnce             sync.Once
	readOK               bool
	priorMap, plannedMap *keysMap

	plannedUnchanged bool     // set by planUnchangedKeys when it planned the request
	declined         bool     // set by ModifyPlan when it cannot read the keys: plan it whole
	left             *keysMap // set by Create and Update: the keys of the state they leave
}

type keysToldKey struct{}

func withKeysTold(ctx context.Context, told *keysTold) context.Context {
	return context.WithValue(ctx, keysToldKey{}, told)
}

// keysToldBy is what keysMapServer told the resource, or nil.
func keysToldBy(ctx context.Context) *keysTold {
	told, _ := ctx.Value(keysToldKey{}).(*keysTold)
	return told
}

// read reads both keys maps, once; false when either is one the resource
// must leave to the framework.
func (t *keysTold) read() bool {
	t.readOnce.Do(func() {
		var okPrior, okPlanned bool
		t.priorMap, okPrior = readKeysMap(t.prior)
		t.plannedMap, okPlanned = readKeysMap(t.planned)
		t.readOK = okPrior && okPlanned
	})
	return t.readOK
}

// attachKeys gives the models the keys keysMapServer took out of the
// request, if it did; false when it did and they cannot be read without
// the framework. state may be nil (a create).
func attachKeys(ctx context.Context, plan, state *keyMigrationModel) bool {
	told := keysToldBy(ctx)
	if told == nil {
		return true
	}
	if !told.read() {
		return false
	}
	plan.keysMap = told.plannedMap
	if state != nil {
		state.keysMap = told.priorMap
	}
	return true
}

// handBackKeys tells keysMapServer the keys of the state m is saved as.
func handBackKeys(ctx context.Context, m keyMigrationModel) {
	if told := keysToldBy(ctx); told != nil && m.keysMap != nil {
		told.left = m.keysMap
	}
}

var errNotAnObject = errors.New("not a known object")

// withoutKeys decodes dv as a value of typ and returns it with keys null,
// and the keys it held; a null object as it is, with no keys (a Value of
// no type).
func withoutKeys(typ tftypes.Object, dv *tfprotov6.DynamicValue) (*tfprotov6.DynamicValue, tftypes.Value, error) {
	v, err := dv.Unmarshal(typ)
	if err != nil {
		return nil, tftypes.Value{}, err
	}
	if v.IsNull() {
		return dv, tftypes.Value{}, nil
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

// keysOrNull is keys, or a null keys map for the keys of a null object.
func keysOrNull(typ tftypes.Object, keys tftypes.Value) tftypes.Value {
	if keys.Type() == nil {
		return tftypes.NewValue(typ.AttributeTypes["keys"], nil)
	}
	return keys
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
