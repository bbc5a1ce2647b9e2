package provider

import (
	"bytes"
	"context"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/vmihailenco/msgpack/v5"
)

// keyIDsStandIn is what the framework sees of key_ids_json in a refresh
// or plan keysMapServer serves: never valid JSON, so that any code reading
// it as key IDs without resolveKeyIDsJSON fails loudly instead of finding
// none.
const keyIDsStandIn = "\x00key_ids_json held by keysMapServer\x00"

// heldKeyIDs is the key_ids_json keysMapServer took out of a request: the
// framework decodes a string of msgpack in steps of 1 MB, copying what it
// read each time, and encodes it again into a growing buffer, several
// times per command (8 MB at 100,000 keys).
type heldKeyIDs struct {
	encoded []byte // the msgpack str, as the request held it
	once    sync.Once
	value   string
}

// String is the held key_ids_json, decoded once.
func (h *heldKeyIDs) String() string {
	h.once.Do(func() { h.value = string(h.encoded[strHeaderLen(h.encoded[0]):]) })
	return h.value
}

// strHeaderLen is the length of the header of a msgpack str starting with
// code; 0 when it is not one.
func strHeaderLen(code byte) int {
	switch {
	case code >= 0xa0 && code <= 0xbf:
		return 1
	case code == 0xd9:
		return 2
	case code == 0xda:
		return 3
	case code == 0xdb:
		return 5
	}
	return 0
}

type heldKeyIDsKey struct{}

func withHeldKeyIDs(ctx context.Context, h *heldKeyIDs) context.Context {
	return context.WithValue(ctx, heldKeyIDsKey{}, h)
}

func heldKeyIDsIn(ctx context.Context) *heldKeyIDs {
	h, _ := ctx.Value(heldKeyIDsKey{}).(*heldKeyIDs)
	return h
}

// resolveKeyIDsJSON puts back into m the key_ids_json keysMapServer held.
func (m *keyMigrationModel) resolveKeyIDsJSON(ctx context.Context) {
	if h := heldKeyIDsIn(ctx); h != nil && !m.KeyIDsJSON.IsNull() && !m.KeyIDsJSON.IsUnknown() && m.KeyIDsJSON.ValueString() == keyIDsStandIn {
		m.KeyIDsJSON = types.StringValue(h.String())
	}
}

// keyIDsJSONForFramework is what the framework is told of key_ids_json
// planned as v: the stand-in when v is the held value, which keysMapServer
// puts back into the answer.
func keyIDsJSONForFramework(ctx context.Context, v types.String) types.String {
	if h := heldKeyIDsIn(ctx); h != nil && !v.IsNull() && !v.IsUnknown() && v.ValueString() == h.String() {
		return types.StringValue(keyIDsStandIn)
	}
	return v
}

var encodedStandIn = func() []byte {
	b, _ := msgpack.Marshal(keyIDsStandIn)
	return b
}()

// holdKeyIDs is dvs, each with key_ids_json replaced by the stand-in, and
// what they held; ok is false unless every one of them holds the same
// string there, as the prior state and the proposed new state of a plan do.
func holdKeyIDs(dvs ...*tfprotov6.DynamicValue) (_ []*tfprotov6.DynamicValue, _ *heldKeyIDs, ok bool) {
	var held []byte
	out := make([]*tfprotov6.DynamicValue, len(dvs))
	for i, dv := range dvs {
		start, end, ok := attributeSpan(dv, "key_ids_json")
		if !ok || (held != nil && !bytes.Equal(held, dv.MsgPack[start:end])) {
			return nil, nil, false
		}
		if held == nil {
			if held = dv.MsgPack[start:end]; strHeaderLen(held[0]) == 0 {
				return nil, nil, false // null, or not a str
			}
		}
		out[i] = &tfprotov6.DynamicValue{MsgPack: spliced(dv.MsgPack, start, end, encodedStandIn)}
	}
	return out, &heldKeyIDs{encoded: held}, held != nil
}

// withKeyIDsBack is dv with the held key_ids_json back where it holds the
// stand-in; dv as it is anywhere else.
func withKeyIDsBack(dv *tfprotov6.DynamicValue, h *heldKeyIDs) *tfprotov6.DynamicValue {
	start, end, ok := attributeSpan(dv, "key_ids_json")
	if !ok || !bytes.Equal(dv.MsgPack[start:end], encodedStandIn) {
		return dv
	}
	return &tfprotov6.DynamicValue{MsgPack: spliced(dv.MsgPack, start, end, h.encoded)}
}

// spliced is b with b[start:end] replaced by with, in a new slice.
func spliced(b []byte, start, end int, with []byte) []byte {
	out := make([]byte, 0, len(b)-(end-start)+len(with))
	return append(append(append(out, b[:start]...), with...), b[end:]...)
}

// attributeSpan is where the value of the top-level attribute name lies in
// dv's msgpack, [start, end); false when dv is not a known object holding
// it.
func attributeSpan(dv *tfprotov6.DynamicValue, name string) (start, end int, ok bool) {
	at, ok := findAttribute(dv, name)
	if !ok {
		return 0, 0, false
	}
	start = at.start()
	end, ok = at.end()
	return start, end, ok
}

// readHoldingKeyIDs serves a refresh of a state without a keys map with
// its key_ids_json held from the framework, when it has one.
func (s *keysMapServer) readHoldingKeyIDs(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	held, h, ok := holdKeyIDs(req.CurrentState)
	if !ok {
		return s.ProviderServer.ReadResource(ctx, req)
	}
	r := *req
	r.CurrentState = held[0]
	resp, err := s.ProviderServer.ReadResource(withHeldKeyIDs(ctx, h), &r)
	if err != nil || resp == nil {
		return resp, err
	}
	if resp.NewState != nil {
		resp.NewState = withKeyIDsBack(resp.NewState, h)
	}
	s.shortcuts.heldKeyIDs.Add(1)
	return resp, nil
}

// planHoldingKeyIDs serves a plan without a keys map with key_ids_json
// held from the framework, when its prior state and proposed new state
// hold the same one.
func (s *keysMapServer) planHoldingKeyIDs(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	held, h, ok := holdKeyIDs(req.PriorState, req.ProposedNewState)
	if !ok {
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	r := *req
	r.PriorState, r.ProposedNewState = held[0], held[1]
	resp, err := s.ProviderServer.PlanResourceChange(withHeldKeyIDs(ctx, h), &r)
	if err != nil || resp == nil {
		return resp, err
	}
	if resp.PlannedState != nil {
		resp.PlannedState = withKeyIDsBack(resp.PlannedState, h)
	}
	s.shortcuts.heldKeyIDs.Add(1)
	return resp, nil
}
