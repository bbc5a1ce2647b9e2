package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
	"github.com/unkeyed/terraform-provider-unkey/internal/benchhooks"
	"github.com/unkeyed/terraform-provider-unkey/internal/provider"
)

// The schema floor is what Terraform core costs for unkey_key_migration's
// schema when the provider does next to nothing: a provider serving the real
// provider's schema (taken from it in process, so it cannot drift) whose
// resource validates nothing, plans the proposed new state, applies the plan
// and reads the state as it is, without any API call. This program serves
// it when floorProviderEnv is set: Terraform starts it, through
// dev_overrides, from a directory where it is linked as
// terraform-provider-unkey.
const floorProviderEnv = "UNKEY_BENCH_SCHEMA_FLOOR"

const migrationType = "unkey_key_migration"

// serveSchemaFloor serves the schema floor to Terraform until it stops us.
func serveSchemaFloor() error {
	fp, err := newFloorProvider(context.Background())
	if err != nil {
		return err
	}
	defer benchhooks.WriteRusage()
	return tf6server.Serve(acctest.ProviderAddress, func() tfprotov6.ProviderServer { return fp })
}

// floorPluginDir makes a directory for dev_overrides holding this very
// program as terraform-provider-unkey (a hard link, else a copy).
func floorPluginDir(root string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "schema-floor-provider")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "terraform-provider-unkey")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if err := os.Link(self, bin); err == nil {
		return dir, nil
	}
	return dir, copyFile(self, bin)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src) //nolint:gosec // this program's own executable
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755) //nolint:gosec // an executable, for Terraform to start
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// floorProvider is the schema floor's server. RPCs it does not implement
// (data sources, functions, import, move) hit the nil embedded interface and
// panic: the benchmark's configuration never makes them.
type floorProvider struct {
	tfprotov6.ProviderServer
	schema *tfprotov6.GetProviderSchemaResponse
	// computed is unkey_key_migration's top-level computed attributes and
	// their types. None of the keys map's nested attributes is computed.
	computed map[string]tftypes.Type
}

// realProviderSchema is the real provider's GetProviderSchema answer.
func realProviderSchema(ctx context.Context) (*tfprotov6.GetProviderSchemaResponse, error) {
	srv := provider.NewServer("schema-floor")()
	resp, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		return nil, err
	}
	for _, d := range resp.Diagnostics {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return nil, fmt.Errorf("the provider's schema: %s: %s", d.Summary, d.Detail)
		}
	}
	return resp, nil
}

func newFloorProvider(ctx context.Context) (*floorProvider, error) {
	s, err := realProviderSchema(ctx)
	if err != nil {
		return nil, err
	}
	res, ok := s.ResourceSchemas[migrationType]
	if !ok || res.Block == nil {
		return nil, fmt.Errorf("the provider has no %s schema", migrationType)
	}
	fp := &floorProvider{schema: s, computed: map[string]tftypes.Type{}}
	for _, a := range res.Block.Attributes {
		if a.Computed {
			fp.computed[a.Name] = a.ValueType()
		}
	}
	return fp, nil
}

func (p *floorProvider) GetMetadata(context.Context, *tfprotov6.GetMetadataRequest) (*tfprotov6.GetMetadataResponse, error) {
	resp := &tfprotov6.GetMetadataResponse{ServerCapabilities: p.schema.ServerCapabilities}
	for name := range p.schema.ResourceSchemas {
		resp.Resources = append(resp.Resources, tfprotov6.ResourceMetadata{TypeName: name})
	}
	for name := range p.schema.DataSourceSchemas {
		resp.DataSources = append(resp.DataSources, tfprotov6.DataSourceMetadata{TypeName: name})
	}
	for name := range p.schema.Functions {
		resp.Functions = append(resp.Functions, tfprotov6.FunctionMetadata{Name: name})
	}
	return resp, nil
}

func (p *floorProvider) GetProviderSchema(context.Context, *tfprotov6.GetProviderSchemaRequest) (*tfprotov6.GetProviderSchemaResponse, error) {
	return p.schema, nil
}

func (p *floorProvider) GetResourceIdentitySchemas(context.Context, *tfprotov6.GetResourceIdentitySchemasRequest) (*tfprotov6.GetResourceIdentitySchemasResponse, error) {
	return &tfprotov6.GetResourceIdentitySchemasResponse{}, nil
}

func (p *floorProvider) ValidateProviderConfig(context.Context, *tfprotov6.ValidateProviderConfigRequest) (*tfprotov6.ValidateProviderConfigResponse, error) {
	return &tfprotov6.ValidateProviderConfigResponse{}, nil
}

func (p *floorProvider) ConfigureProvider(context.Context, *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	return &tfprotov6.ConfigureProviderResponse{}, nil
}

func (p *floorProvider) StopProvider(context.Context, *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	return &tfprotov6.StopProviderResponse{}, nil
}

func (p *floorProvider) ValidateResourceConfig(context.Context, *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return &tfprotov6.ValidateResourceConfigResponse{}, nil
}

// UpgradeResourceState hands the stored JSON back as it is: Terraform
// decodes JSON as well as msgpack, and the schema has one version.
func (p *floorProvider) UpgradeResourceState(_ context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	if req.RawState == nil || req.RawState.JSON == nil {
		return &tfprotov6.UpgradeResourceStateResponse{Diagnostics: floorError("a state without JSON (flatmap) cannot be upgraded")}, nil
	}
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &tfprotov6.DynamicValue{JSON: req.RawState.JSON}}, nil
}

func (p *floorProvider) ReadResource(_ context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private}, nil
}

// PlanResourceChange plans the proposed new state. Terraform's proposed
// state already keeps prior values of computed attributes left null in the
// configuration, so only a create has computed attributes to mark unknown.
func (p *floorProvider) PlanResourceChange(_ context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	resp := &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState, PlannedPrivate: req.PriorPrivate}
	if !isNull(req.PriorState) && !isNull(req.ProposedNewState) {
		return resp, nil
	}
	if isNull(req.ProposedNewState) {
		return resp, nil // a destroy
	}
	planned, err := rewriteObject(req.ProposedNewState.MsgPack, func(attrs []attribute) error {
		for i, a := range attrs {
			if _, ok := p.computed[a.name]; ok && isNilValue(a.raw) {
				attrs[i].raw = unknownValue
			}
		}
		return nil
	})
	if err != nil {
		return &tfprotov6.PlanResourceChangeResponse{Diagnostics: floorError("planning: " + err.Error())}, nil //nolint:nilerr // the protocol reports failures as diagnostics
	}
	resp.PlannedState = &tfprotov6.DynamicValue{MsgPack: planned}
	return resp, nil
}

// ApplyResourceChange returns the planned state with each unknown computed
// attribute given a cheap plausible value: key_ids one key ID per hash of
// keys, key_ids_json one per hash of keys_file, every other attribute the
// zero of its type.
func (p *floorProvider) ApplyResourceChange(_ context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	resp := &tfprotov6.ApplyResourceChangeResponse{NewState: req.PlannedState, Private: req.PlannedPrivate}
	if isNull(req.PlannedState) {
		return resp, nil
	}
	state, err := rewriteObject(req.PlannedState.MsgPack, func(attrs []attribute) error {
		var keys, keysFile []byte
		for _, a := range attrs {
			switch a.name {
			case "keys":
				keys = a.raw
			case "keys_file":
				keysFile = a.raw
			}
		}
		for i, a := range attrs {
			t, ok := p.computed[a.name]
			if !ok || !isUnknownValue(a.raw) {
				continue
			}
			var v []byte
			var err error
			if a.name == "key_ids_json" && !isNilValue(keysFile) {
				v, err = plausibleKeyIDsJSON(keysFile)
			} else {
				v, err = plausibleValue(a.name, t, keys)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", a.name, err)
			}
			attrs[i].raw = v
		}
		return nil
	})
	if err != nil {
		return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: floorError("applying: " + err.Error())}, nil //nolint:nilerr // the protocol reports failures as diagnostics
	}
	resp.NewState = &tfprotov6.DynamicValue{MsgPack: state}
	return resp, nil
}

func floorError(msg string) []*tfprotov6.Diagnostic {
	return []*tfprotov6.Diagnostic{{Severity: tfprotov6.DiagnosticSeverityError, Summary: "schema floor", Detail: msg}}
}

// The values below are worked on in Terraform's msgpack encoding (cty's),
// one level deep: decoding a whole 10,000-key map into Go values would put
// provider work into the floor.

// unknownValue is cty's msgpack encoding of an unknown value.
var unknownValue = []byte{0xd4, 0, 0}

// unknownRefinedExt is cty's extension type of an unknown value with
// refinements (for example "not null").
const unknownRefinedExt = 12

func isNull(v *tfprotov6.DynamicValue) bool {
	return v == nil || (v.JSON == nil && isNilValue(v.MsgPack)) || (v.MsgPack == nil && string(bytes.TrimSpace(v.JSON)) == "null")
}

func isNilValue(raw []byte) bool { return len(raw) == 0 || (len(raw) == 1 && raw[0] == msgpcode.Nil) }

func isUnknownValue(raw []byte) bool {
	if len(raw) == 0 || !msgpcode.IsExt(raw[0]) {
		return false
	}
	id, _, err := msgpack.NewDecoder(bytes.NewReader(raw)).DecodeExtHeader()
	return err == nil && (id == 0 || id == unknownRefinedExt)
}

// attribute is one attribute of an object and its encoded value.
type attribute struct {
	name string
	raw  []byte
}

// rewriteObject decodes an encoded object's attributes, lets edit change
// their values and encodes the object again.
func rewriteObject(b []byte, edit func([]attribute) error) ([]byte, error) {
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	n, err := dec.DecodeMapLen()
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, errors.New("the object is null")
	}
	attrs := make([]attribute, n)
	for i := range attrs {
		if attrs[i].name, err = dec.DecodeString(); err != nil {
			return nil, err
		}
		if attrs[i].raw, err = dec.DecodeRaw(); err != nil {
			return nil, err
		}
	}
	if err := edit(attrs); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(b) + 64)
	enc := msgpack.NewEncoder(&out)
	if err := enc.EncodeMapLen(n); err != nil {
		return nil, err
	}
	for _, a := range attrs {
		if err := enc.EncodeString(a.name); err != nil {
			return nil, err
		}
		out.Write(a.raw)
	}
	return out.Bytes(), nil
}

// mapKeys is the keys of an encoded map (none when it is null).
func mapKeys(raw []byte) ([]string, error) {
	if isNilValue(raw) {
		return nil, nil
	}
	dec := msgpack.NewDecoder(bytes.NewReader(raw))
	n, err := dec.DecodeMapLen()
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, max(n, 0))
	for range n {
		k, err := dec.DecodeString()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
		if err := dec.Skip(); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// plausibleValue is the encoded value the floor applies for an unknown
// computed attribute.
func plausibleValue(name string, t tftypes.Type, keys []byte) ([]byte, error) {
	var out bytes.Buffer
	enc := msgpack.NewEncoder(&out)
	var err error
	switch {
	case name == "key_ids":
		var hashes []string
		if hashes, err = mapKeys(keys); err != nil {
			return nil, err
		}
		if err = enc.EncodeMapLen(len(hashes)); err != nil {
			return nil, err
		}
		for i, h := range hashes {
			if err = enc.EncodeString(h); err != nil {
				return nil, err
			}
			if err = enc.EncodeString(fmt.Sprintf("key_floor%015d", i)); err != nil {
				return nil, err
			}
		}
	case t.Is(tftypes.String):
		err = enc.EncodeString("floor")
	case t.Is(tftypes.Number):
		err = enc.EncodeInt(0)
	case t.Is(tftypes.Bool):
		err = enc.EncodeBool(false)
	default:
		switch t.(type) {
		case tftypes.List, tftypes.Set, tftypes.Tuple:
			err = enc.EncodeArrayLen(0)
		case tftypes.Map:
			err = enc.EncodeMapLen(0)
		default:
			err = enc.EncodeNil()
		}
	}
	return out.Bytes(), err
}

// plausibleKeyIDsJSON is key_ids_json as the provider writes it, a key ID
// per hash sorted by hash, for the hashes of the keys file whose encoded path
// is pathRaw. It finds each `"hash":"` in the file the benchmark wrote
// rather than decoding 40 MB of JSON, which would put provider work into
// the floor.
func plausibleKeyIDsJSON(pathRaw []byte) ([]byte, error) {
	name, err := msgpack.NewDecoder(bytes.NewReader(pathRaw)).DecodeString()
	if err != nil {
		return nil, err
	}
	doc, err := os.ReadFile(name) //nolint:gosec // the benchmark's own keys file
	if err != nil {
		return nil, err
	}
	hashes := hashesIn(doc)
	slices.Sort(hashes)
	var ids bytes.Buffer
	ids.Grow(len(hashes) * 80)
	ids.WriteByte('{')
	for i, h := range hashes {
		if i > 0 {
			ids.WriteByte(',')
		}
		fmt.Fprintf(&ids, "%q:\"key_floor%015d\"", h, i)
	}
	ids.WriteByte('}')
	var out bytes.Buffer
	err = msgpack.NewEncoder(&out).EncodeString(ids.String())
	return out.Bytes(), err
}

// hashesIn is every hash of a keys file in the benchmark's own format,
// where each key's first field is "hash".
func hashesIn(doc []byte) []string {
	const field = `"hash":"`
	var hashes []string
	for {
		i := bytes.Index(doc, []byte(field))
		if i < 0 {
			return hashes
		}
		doc = doc[i+len(field):]
		end := bytes.IndexByte(doc, '"')
		if end < 0 {
			return hashes
		}
		hashes = append(hashes, string(doc[:end]))
		doc = doc[end:]
	}
}
