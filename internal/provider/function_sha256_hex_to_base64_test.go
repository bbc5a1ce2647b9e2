package provider_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// Provider-defined functions need Terraform 1.8 or OpenTofu 1.7; on older
// CLIs this test is skipped, and the test command also runs it on OpenTofu.
func TestAccFunction_sha256HexToBase64(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte("sk_live_legacy_key"))
	hx := hex.EncodeToString(sum[:])
	want := base64.StdEncoding.EncodeToString(sum[:])
	output := func(arg string) string {
		return fmt.Sprintf("output \"hash\" {\n  value = provider::unkey::sha256_hex_to_base64(%q)\n}\n", arg)
	}
	resource.UnitTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(version.Must(version.NewVersion("1.8.0")))},
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:            output(hx),
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownOutputValue("hash", knownvalue.StringExact(want))},
			},
			{
				Config:            output(strings.ToUpper(hx)),
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownOutputValue("hash", knownvalue.StringExact(want))},
			},
			{
				Config:      output(want),
				ExpectError: errorLike("expected the hex SHA-256 digest of a key: 64 hexadecimal characters"),
			},
		},
	})
}
