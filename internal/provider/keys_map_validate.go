package provider

import (
	"context"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// ValidateResourceConfig validates unkey_key_migration's keys map itself,
// key by key straight from the Terraform value, with the schema's own
// validators, and lets the framework validate the rest with every known key
// set to null: the framework then still sees the hashes (its map validators,
// ExactlyOneOf and ValidateConfig read nothing else of keys) but converts no
// key's settings. The framework's walk costs seconds of CPU per thousand keys.
// Whatever this walk cannot check exactly as the framework does, it leaves to
// the framework with the whole configuration.
func (s *keysMapServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	if req.TypeName != keyMigrationTypeName || req.Config == nil || keysNullInAll(req.Config) {
		return s.ProviderServer.ValidateResourceConfig(ctx, req)
	}
	stripped, keyDiags, hashes, ok := validateKeysApart(ctx, req.Config, schemaCapabilities(req.ClientCapabilities))
	var protoDiags []*tfprotov6.Diagnostic
	if ok {
		protoDiags, ok = toProtoDiagnostics(keyDiags)
	}
	if !ok {
		return s.ProviderServer.ValidateResourceConfig(ctx, req)
	}
	r := *req
	r.Config = stripped
	resp, err := s.ProviderServer.ValidateResourceConfig(context.WithValue(ctx, validatedHashesKey{}, hashes), &r)
	if err != nil || resp == nil {
		return resp, err
	}
	resp.Diagnostics = append(resp.Diagnostics, protoDiags...)
	s.shortcuts.validations.Add(1)
	return resp, nil
}

// keysSchema is unkey_key_migration's schema and its keys attribute.
var keysSchema = sync.OnceValues(func() (schema.Schema, schema.MapNestedAttribute) {
	var sch resource.SchemaResponse
	NewKeyMigrationResource().Schema(context.Background(), resource.SchemaRequest{}, &sch)
	keys, _ := sch.Schema.Attributes["keys"].(schema.MapNestedAttribute)
	return sch.Schema, keys
})

// validateKeysApart validates the keys map of the configuration dv as the
// framework would, and returns dv with a stand-in for the map: one hash with
// a null key, in which the framework's map validators, ExactlyOneOf and
// nested walk find nothing, while ValidateConfig reads the configured hashes
// from the context (hashesToValidate). ok false when it cannot do so exactly
// as the framework would.
func validateKeysApart(ctx context.Context, dv *tfprotov6.DynamicValue, caps validator.ValidateSchemaClientCapabilities) (_ *tfprotov6.DynamicValue, _ diag.Diagnostics, hashes []string, ok bool) {
	typ := keyMigrationType()
	config, err := dv.Unmarshal(typ)
	if err != nil {
		return nil, nil, nil, false
	}
	attrs, err := attributesOf(config)
	if err != nil || !attrs["keys"].IsKnown() || attrs["keys"].IsNull() {
		return nil, nil, nil, false
	}
	var elems map[string]tftypes.Value
	if err := attrs["keys"].As(&elems); err != nil || len(elems) == 0 {
		return nil, nil, nil, false
	}
	sch, keysAttr := keysSchema()
	w := keysWalk{ctx: ctx, config: tfsdk.Config{Raw: config, Schema: sch}, caps: caps}
	keysType := typ.AttributeTypes["keys"].(tftypes.Map) //nolint:forcetypeassert // keys is a map in the schema
	nullKey := tftypes.NewValue(keysType.ElementType, nil)
	nullKeys := make(map[string]tftypes.Value, len(elems))
	for hash := range elems {
		nullKeys[hash] = nullKey
	}
	// The map's own validators read only its hashes; with an error among
	// them, the framework walks none of its keys.
	if w.mapAttribute(keysAttr, tftypes.NewValue(keysType, nullKeys)); !w.unsure && !w.diags.HasError() {
		for hash, key := range elems {
			if w.key(keysAttr.NestedObject.Attributes, key, hash); w.unsure {
				break
			}
		}
	}
	if w.unsure {
		return nil, nil, nil, false
	}
	attrs["keys"] = tftypes.NewValue(keysType, map[string]tftypes.Value{"stand-in": nullKey})
	out, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, attrs))
	if err != nil {
		return nil, nil, nil, false
	}
	return &out, w.diags, sortedKeys(elems), true
}

// schemaCapabilities is what the framework tells validators of the client.
func schemaCapabilities(c *tfprotov6.ValidateResourceConfigClientCapabilities) validator.ValidateSchemaClientCapabilities {
	return validator.ValidateSchemaClientCapabilities{WriteOnlyAttributesAllowed: c != nil && c.WriteOnlyAttributesAllowed}
}

type validatedHashesKey struct{}

// hashesToValidate is the configured hashes, sorted, for ValidateConfig:
// those keysMapServer told it when it stood one in for the keys map, else
// those of config.
func hashesToValidate(ctx context.Context, config tftypes.Value) ([]string, error) {
	if hashes, ok := ctx.Value(validatedHashesKey{}).([]string); ok {
		return hashes, nil
	}
	return configuredHashes(config)
}

// keysWalk runs the checks terraform-plugin-framework's attribute validation
// (internal/fwserver.AttributeValidate) runs on a nested attribute, in its
// order, on values taken straight from tftypes. It sets unsure on anything
// where the framework would report a problem of its own making (a value it
// cannot convert, a required attribute unset) rather than a validator's.
type keysWalk struct {
	ctx    context.Context
	config tfsdk.Config
	caps   validator.ValidateSchemaClientCapabilities
	diags  diag.Diagnostics
	unsure bool
}

// mapAttribute runs the validators of the keys map itself on v.
func (w *keysWalk) mapAttribute(keysAttr schema.MapNestedAttribute, v tftypes.Value) {
	p := path.Root("keys")
	if value, ok := w.value(keysAttr.GetType(), v, p); ok {
		w.runValidators(keysAttr, value, p, path.MatchRoot("keys"))
	}
}

// key validates one key of the map. The framework reads every attribute of a
// null or unknown key as null.
func (w *keysWalk) key(attrs map[string]schema.Attribute, key tftypes.Value, hash string) {
	p, pe := path.Root("keys").AtMapKey(hash), path.MatchRoot("keys").AtMapKey(hash)
	if key.IsNull() || !key.IsKnown() {
		for name, a := range attrs {
			w.attribute(a, tftypes.NewValue(a.GetType().TerraformType(w.ctx), nil), p.AtName(name), pe.AtName(name))
		}
		return
	}
	w.object(attrs, key, p, pe)
}

// object validates the attributes of a known, non-null nested object.
func (w *keysWalk) object(attrs map[string]schema.Attribute, v tftypes.Value, p path.Path, pe path.Expression) {
	var vals map[string]tftypes.Value
	if err := v.As(&vals); err != nil {
		w.unsure = true
		return
	}
	for name, a := range attrs {
		w.attribute(a, vals[name], p.AtName(name), pe.AtName(name))
		if w.unsure {
			return
		}
	}
}

func (w *keysWalk) attribute(a schema.Attribute, tv tftypes.Value, p path.Path, pe path.Expression) {
	if a.IsComputed() || a.IsWriteOnly() || a.GetDeprecationMessage() != "" || (a.IsRequired() && tv.IsNull()) {
		w.unsure = true // framework checks of its own: left to it
		return
	}
	errorsBefore := w.diags.ErrorsCount()
	value, ok := w.value(a.GetType(), tv, p)
	if !ok {
		return
	}
	w.runValidators(a, value, p, pe)
	// The framework walks no nested object of an attribute it has found an
	// error in.
	if !w.unsure && w.diags.ErrorsCount() == errorsBefore {
		w.nested(a, value, p, pe)
	}
}

// value converts tv as the framework's fwschemadata.Data.ValueAtPath does,
// with its value or type validation; ok false when that failed.
func (w *keysWalk) value(typ attr.Type, tv tftypes.Value, p path.Path) (attr.Value, bool) {
	value, err := typ.ValueFromTerraform(w.ctx, tv)
	if err != nil {
		w.unsure = true
		return nil, false
	}
	var diags diag.Diagnostics
	if v, ok := value.(xattr.ValidateableAttribute); ok {
		var resp xattr.ValidateAttributeResponse
		v.ValidateAttribute(w.ctx, xattr.ValidateAttributeRequest{Path: p}, &resp)
		diags = resp.Diagnostics
	} else if t, ok := typ.(xattr.TypeWithValidate); ok { //nolint:staticcheck // the framework still calls it, so must this
		diags = t.Validate(w.ctx, tv, p)
	}
	w.diags.Append(diags...)
	return value, !diags.HasError()
}

// runValidators runs the attribute's own validators, each with a response of
// its own, as the framework's AttributeValidate<Type> functions do.
func (w *keysWalk) runValidators(a schema.Attribute, value attr.Value, p path.Path, pe path.Expression) {
	switch a := a.(type) {
	case interface{ StringValidators() []validator.String }:
		v, ok := value.(basetypes.StringValuable)
		if !ok {
			w.unsure = true
			return
		}
		sv, diags := v.ToStringValue(w.ctx)
		if w.converted(diags) {
			req := validator.StringRequest{ClientCapabilities: w.caps, Config: w.config, ConfigValue: sv, Path: p, PathExpression: pe}
			for _, val := range a.StringValidators() {
				var resp validator.StringResponse
				val.ValidateString(w.ctx, req, &resp)
				w.diags.Append(resp.Diagnostics...)
			}
		}
	case interface{ Int64Validators() []validator.Int64 }:
		v, ok := value.(basetypes.Int64Valuable)
		if !ok {
			w.unsure = true
			return
		}
		iv, diags := v.ToInt64Value(w.ctx)
		if w.converted(diags) {
			req := validator.Int64Request{ClientCapabilities: w.caps, Config: w.config, ConfigValue: iv, Path: p, PathExpression: pe}
			for _, val := range a.Int64Validators() {
				var resp validator.Int64Response
				val.ValidateInt64(w.ctx, req, &resp)
				w.diags.Append(resp.Diagnostics...)
			}
		}
	case interface{ BoolValidators() []validator.Bool }:
		v, ok := value.(basetypes.BoolValuable)
		if !ok {
			w.unsure = true
			return
		}
		bv, diags := v.ToBoolValue(w.ctx)
		if w.converted(diags) {
			req := validator.BoolRequest{ClientCapabilities: w.caps, Config: w.config, ConfigValue: bv, Path: p, PathExpression: pe}
			for _, val := range a.BoolValidators() {
				var resp validator.BoolResponse
				val.ValidateBool(w.ctx, req, &resp)
				w.diags.Append(resp.Diagnostics...)
			}
		}
	case interface{ SetValidators() []validator.Set }:
		v, ok := value.(basetypes.SetValuable)
		if !ok {
			w.unsure = true
			return
		}
		sv, diags := v.ToSetValue(w.ctx)
		if w.converted(diags) {
			req := validator.SetRequest{ClientCapabilities: w.caps, Config: w.config, ConfigValue: sv, Path: p, PathExpression: pe}
			for _, val := range a.SetValidators() {
				var resp validator.SetResponse
				val.ValidateSet(w.ctx, req, &resp)
				w.diags.Append(resp.Diagnostics...)
			}
		}
	case interface{ ListValidators() []validator.List }:
		v, ok := value.(basetypes.ListValuable)
		if !ok {
			w.unsure = true
			return
		}
		lv, diags := v.ToListValue(w.ctx)
		if w.converted(diags) {
			req := validator.ListRequest{ClientCapabilities: w.caps, Config: w.config, ConfigValue: lv, Path: p, PathExpression: pe}
			for _, val := range a.ListValidators() {
				var resp validator.ListResponse
				val.ValidateList(w.ctx, req, &resp)
				w.diags.Append(resp.Diagnostics...)
			}
		}
	case interface{ MapValidators() []validator.Map }:
		v, ok := value.(basetypes.MapValuable)
		if !ok {
			w.unsure = true
			return
		}
		mv, diags := v.ToMapValue(w.ctx)
		if w.converted(diags) {
			req := validator.MapRequest{ClientCapabilities: w.caps, Config: w.config, ConfigValue: mv, Path: p, PathExpression: pe}
			for _, val := range a.MapValidators() {
				var resp validator.MapResponse
				val.ValidateMap(w.ctx, req, &resp)
				w.diags.Append(resp.Diagnostics...)
			}
		}
	case interface{ ObjectValidators() []validator.Object }:
		v, ok := value.(basetypes.ObjectValuable)
		if !ok {
			w.unsure = true
			return
		}
		ov, diags := v.ToObjectValue(w.ctx)
		if w.converted(diags) {
			req := validator.ObjectRequest{ClientCapabilities: w.caps, Config: w.config, ConfigValue: ov, Path: p, PathExpression: pe}
			for _, val := range a.ObjectValidators() {
				var resp validator.ObjectResponse
				val.ValidateObject(w.ctx, req, &resp)
				w.diags.Append(resp.Diagnostics...)
			}
		}
	default:
		w.unsure = true // an attribute kind the keys schema does not have
	}
}

// converted appends the diagnostics of a conversion and tells whether it
// succeeded; the framework skips the validators of a value it failed to
// convert.
func (w *keysWalk) converted(diags diag.Diagnostics) bool {
	w.diags.Append(diags...)
	return !diags.HasError()
}

// nested walks a nested attribute's objects as the framework's
// AttributeValidateNestedAttributes does: a single object when known and not
// null, every element of a list. An element that is null or unknown is left
// to the framework, which reads unset attributes there as missing.
func (w *keysWalk) nested(a schema.Attribute, value attr.Value, p path.Path, pe path.Expression) {
	switch a := a.(type) {
	case schema.SingleNestedAttribute:
		tv, err := value.ToTerraformValue(w.ctx)
		if err != nil {
			w.unsure = true
			return
		}
		if tv.IsNull() || !tv.IsKnown() {
			return
		}
		w.object(a.Attributes, tv, p, pe)
	case schema.ListNestedAttribute:
		tv, err := value.ToTerraformValue(w.ctx)
		if err != nil {
			w.unsure = true
			return
		}
		if tv.IsNull() || !tv.IsKnown() {
			return
		}
		var elems []tftypes.Value
		if err := tv.As(&elems); err != nil {
			w.unsure = true
			return
		}
		if len(a.NestedObject.Validators) > 0 {
			w.unsure = true // the keys schema has none; the framework would run them first
			return
		}
		for i, elem := range elems {
			if elem.IsNull() || !elem.IsKnown() {
				w.unsure = true
				return
			}
			w.object(a.NestedObject.Attributes, elem, p.AtListIndex(i), pe.AtListIndex(i))
			if w.unsure {
				return
			}
		}
	case schema.MapNestedAttribute, schema.SetNestedAttribute:
		w.unsure = true // not in a key's settings
	}
}

// toProtoDiagnostics converts framework diagnostics as the framework's
// server does (internal/toproto6.Diagnostics); ok false if a path does not
// convert, where the framework would add a diagnostic of its own.
func toProtoDiagnostics(diags diag.Diagnostics) (_ []*tfprotov6.Diagnostic, ok bool) {
	out := make([]*tfprotov6.Diagnostic, 0, len(diags))
	for _, d := range diags {
		pd := &tfprotov6.Diagnostic{Summary: d.Summary(), Detail: d.Detail()}
		switch d.Severity() {
		case diag.SeverityError:
			pd.Severity = tfprotov6.DiagnosticSeverityError
		case diag.SeverityWarning:
			pd.Severity = tfprotov6.DiagnosticSeverityWarning
		default:
			pd.Severity = tfprotov6.DiagnosticSeverityInvalid
		}
		if wp, ok := d.(diag.DiagnosticWithPath); ok {
			if pd.Attribute = toTFPath(wp.Path()); pd.Attribute == nil {
				return nil, false
			}
		}
		out = append(out, pd)
	}
	return out, true
}

// toTFPath is p as the framework's internal/totftypes.AttributePath
// converts it; nil for a step it cannot convert.
func toTFPath(p path.Path) *tftypes.AttributePath {
	steps := make([]tftypes.AttributePathStep, 0, len(p.Steps()))
	for _, step := range p.Steps() {
		switch step := step.(type) {
		case path.PathStepAttributeName:
			steps = append(steps, tftypes.AttributeName(string(step)))
		case path.PathStepElementKeyInt:
			steps = append(steps, tftypes.ElementKeyInt(int64(step)))
		case path.PathStepElementKeyString:
			steps = append(steps, tftypes.ElementKeyString(string(step)))
		case path.PathStepElementKeyValue:
			v, err := step.ToTerraformValue(context.Background())
			if err != nil {
				return nil
			}
			steps = append(steps, tftypes.ElementKeyValue(v))
		default:
			return nil
		}
	}
	return tftypes.NewAttributePathWithSteps(steps)
}
