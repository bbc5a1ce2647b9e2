package provider

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/function"
)

var _ function.Function = sha256HexToBase64Function{}

// NewSHA256HexToBase64Function is provider::unkey::sha256_hex_to_base64.
func NewSHA256HexToBase64Function() function.Function { return sha256HexToBase64Function{} }

type sha256HexToBase64Function struct{}

func (sha256HexToBase64Function) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "sha256_hex_to_base64"
}

func (sha256HexToBase64Function) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Re-encodes a hex SHA-256 digest as standard base64, Unkey's native hash format.",
		Description: "Many systems store the hex SHA-256 of the whole key. That is the same 32-byte digest Unkey's `sha256` migrations expect, " +
			"only encoded differently: this function turns it into the standard base64 (with padding) those migrations verify. " +
			"Do not use it for the seamapi prefixed-api-key algorithm, which expects the hex digest of the long token as it is.",
		Parameters: []function.Parameter{
			function.StringParameter{Name: "hex_digest", Description: "64 hexadecimal characters (either case): the SHA-256 digest of the whole key."},
		},
		Return: function.StringReturn{},
	}
}

func (sha256HexToBase64Function) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var digest string
	resp.Error = req.Arguments.Get(ctx, &digest)
	if resp.Error != nil {
		return
	}
	out, err := sha256HexToBase64(digest)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(0, err.Error())
		return
	}
	resp.Error = resp.Result.Set(ctx, out)
}

func sha256HexToBase64(digest string) (string, error) {
	raw, err := hex.DecodeString(digest)
	if len(digest) != 64 || err != nil {
		return "", fmt.Errorf("expected the hex SHA-256 digest of a key: 64 hexadecimal characters, got %d characters %q", len(digest), truncateForMessage(digest))
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

func truncateForMessage(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
