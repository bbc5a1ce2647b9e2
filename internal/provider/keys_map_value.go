package provider

import (
	"encoding/json"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeyclient"
)

// keysMap is a keys map as Terraform sent it, which keysMapServer took out
// of a request and read without the framework. A model carrying one takes
// its keys from it, not from its Keys field.
type keysMap struct {
	value tftypes.Value              // the map as Terraform sent it, or null
	keys  map[string]unkeyclient.Key // every key whose settings convert
	errs  map[string]error           // the others, as toClientKey words it
}

// readKeysMap reads a known keys map, or a null one, into keys, as
// keySettings and toClientKey do through the framework. It declines (ok
// false) any value that conversion would not take the same way: unknown
// values, null keys or list and set elements, numbers that are no int64,
// and a meta that is not JSON (the framework reports that as it reads the
// value, before the resource sees it).
func readKeysMap(v tftypes.Value) (_ *keysMap, ok bool) {
	km := &keysMap{value: v, keys: map[string]unkeyclient.Key{}, errs: map[string]error{}}
	if !v.IsKnown() {
		return nil, false
	}
	if v.IsNull() {
		return km, true
	}
	var elems map[string]tftypes.Value
	if v.As(&elems) != nil {
		return nil, false
	}
	for hash, e := range elems {
		s, ok := keySettingsFrom(e)
		if !ok {
			return nil, false
		}
		k, err := s.toClientKey(hash)
		if err != nil {
			km.errs[hash] = err
			continue
		}
		km.keys[hash] = k
	}
	return km, true
}

// hashes is the map's hashes, sorted.
func (km *keysMap) hashes() []string {
	if km.value.IsNull() {
		return nil
	}
	hashes, _ := keysOf(km.value) // a known map, read before
	return hashes
}

// withEntries is km with the given hashes' entries taken from other (or
// dropped when other lacks them), as withEntries does for a types.Map.
func (km *keysMap) withEntries(other *keysMap, hashes []string) *keysMap {
	if len(hashes) == 0 {
		return km
	}
	elems := map[string]tftypes.Value{}
	if !km.value.IsNull() {
		_ = km.value.As(&elems) // a known map, read before
	}
	var otherElems map[string]tftypes.Value
	if other != nil && !other.value.IsNull() {
		_ = other.value.As(&otherElems)
	}
	for _, h := range hashes {
		if v, ok := otherElems[h]; ok {
			elems[h] = v
		} else {
			delete(elems, h)
		}
	}
	return &keysMap{value: tftypes.NewValue(km.value.Type(), elems)}
}

// keySettingsFrom reads one element of the keys map as the framework reads
// it into keySettingsModel.
func keySettingsFrom(v tftypes.Value) (keySettingsModel, bool) {
	var k keySettingsModel
	attrs, ok := objectAttributes(v)
	if !ok {
		return k, false
	}
	var meta types.String
	var okName, okExternal, okMeta, okRoles, okPerms, okExpires, okEnabled, okCredits, okRatelimits bool
	k.Name, okName = stringFrom(attrs["name"])
	k.ExternalID, okExternal = stringFrom(attrs["external_id"])
	if meta, okMeta = stringFrom(attrs["meta"]); okMeta {
		k.Meta = jsontypes.NewNormalizedNull()
		if !meta.IsNull() {
			k.Meta = jsontypes.NewNormalizedValue(meta.ValueString())
			okMeta = json.Valid([]byte(meta.ValueString())) // as jsontypes.Normalized's ValidateAttribute
		}
	}
	k.Roles, okRoles = stringsFrom(attrs["roles"])
	k.Permissions, okPerms = stringsFrom(attrs["permissions"])
	k.Expires, okExpires = stringFrom(attrs["expires"])
	k.Enabled, okEnabled = boolFrom(attrs["enabled"])
	k.Credits, okCredits = creditsFromValue(attrs["credits"])
	k.Ratelimits, okRatelimits = ratelimitsFromValue(attrs["ratelimits"])
	return k, okName && okExternal && okMeta && okRoles && okPerms && okExpires && okEnabled && okCredits && okRatelimits
}

func creditsFromValue(v tftypes.Value) (*creditsModel, bool) {
	if v.IsKnown() && v.IsNull() {
		return nil, true
	}
	attrs, ok := objectAttributes(v)
	if !ok {
		return nil, false
	}
	c := &creditsModel{}
	var okRemaining, okRefill bool
	c.Remaining, okRemaining = int64From(attrs["remaining"])
	c.Refill, okRefill = refillFromValue(attrs["refill"])
	return c, okRemaining && okRefill
}

func refillFromValue(v tftypes.Value) (*refillModel, bool) {
	if v.IsKnown() && v.IsNull() {
		return nil, true
	}
	attrs, ok := objectAttributes(v)
	if !ok {
		return nil, false
	}
	r := &refillModel{}
	var okInterval, okAmount, okDay bool
	r.Interval, okInterval = stringFrom(attrs["interval"])
	r.Amount, okAmount = int64From(attrs["amount"])
	r.RefillDay, okDay = int64From(attrs["refill_day"])
	return r, okInterval && okAmount && okDay
}

func ratelimitsFromValue(v tftypes.Value) ([]ratelimitModel, bool) {
	elems, ok := listElements(v)
	if !ok || elems == nil {
		return nil, ok
	}
	out := make([]ratelimitModel, 0, len(elems))
	for _, e := range elems {
		attrs, ok := objectAttributes(e)
		if !ok {
			return nil, false
		}
		var rl ratelimitModel
		var okName, okLimit, okDuration, okAuto bool
		rl.Name, okName = stringFrom(attrs["name"])
		rl.Limit, okLimit = int64From(attrs["limit"])
		rl.Duration, okDuration = stringFrom(attrs["duration"])
		rl.AutoApply, okAuto = boolFrom(attrs["auto_apply"])
		if !okName || !okLimit || !okDuration || !okAuto {
			return nil, false
		}
		out = append(out, rl)
	}
	return out, true
}

// objectAttributes is the attributes of a known, non-null object.
func objectAttributes(v tftypes.Value) (map[string]tftypes.Value, bool) {
	if !v.IsKnown() || v.IsNull() {
		return nil, false
	}
	var attrs map[string]tftypes.Value
	return attrs, v.As(&attrs) == nil
}

// listElements is the elements of a known list or set, nil when it is null
// (the framework reads a null list into a nil slice, a known empty one into
// an empty slice).
func listElements(v tftypes.Value) ([]tftypes.Value, bool) {
	if !v.IsKnown() {
		return nil, false
	}
	if v.IsNull() {
		return nil, true
	}
	elems := []tftypes.Value{}
	return elems, v.As(&elems) == nil
}

func stringsFrom(v tftypes.Value) ([]string, bool) {
	elems, ok := listElements(v)
	if !ok || elems == nil {
		return nil, ok
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		s, ok := stringFrom(e)
		if !ok || s.IsNull() {
			return nil, false
		}
		out = append(out, s.ValueString())
	}
	return out, true
}

func stringFrom(v tftypes.Value) (types.String, bool) {
	if !v.IsKnown() {
		return types.String{}, false
	}
	if v.IsNull() {
		return types.StringNull(), true
	}
	var s string
	if v.As(&s) != nil {
		return types.String{}, false
	}
	return types.StringValue(s), true
}

func boolFrom(v tftypes.Value) (types.Bool, bool) {
	if !v.IsKnown() {
		return types.Bool{}, false
	}
	if v.IsNull() {
		return types.BoolNull(), true
	}
	var b bool
	if v.As(&b) != nil {
		return types.Bool{}, false
	}
	return types.BoolValue(b), true
}

func int64From(v tftypes.Value) (types.Int64, bool) {
	if !v.IsKnown() {
		return types.Int64{}, false
	}
	if v.IsNull() {
		return types.Int64Null(), true
	}
	var f big.Float
	if v.As(&f) != nil {
		return types.Int64{}, false
	}
	n, acc := f.Int64()
	if acc != big.Exact || !f.IsInt() {
		return types.Int64{}, false
	}
	return types.Int64Value(n), true
}
