package provider_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// verification is what the local API's keys.verifyKey answers.
type verification struct {
	Valid       bool
	Code        string
	KeyID       string
	Permissions []string
	Identity    *struct{ ID, ExternalID string }
}

func (u localUnkey) verify(t *testing.T, key string) verification {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"key": key})
	req, _ := http.NewRequest(http.MethodPost, u.URL+"/v2/keys.verifyKey", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+u.Seed.RootKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	var out struct{ Data verification }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Data
}

// The example in examples/guides/access-model, applied from nothing: the
// migrated legacy key verifies with its role's permissions and its identity;
// then a permission added to the role and a new identity rate limit are
// exactly what the next plan changes.
func TestAccAccessModel_oneApply(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	src, err := os.ReadFile("../../examples/guides/access-model/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	example := u.providerBlock() + strings.Replace(string(src), `"mig_acme"`, fmt.Sprintf("%q", u.Seed.MigrationID), 1)
	changed := strings.NewReplacer(
		"permissions = [unkey_permission.read.slug]", "permissions = [unkey_permission.read.slug, unkey_permission.write.slug]",
		"limit = 1000", "limit = 2000",
	).Replace(example)
	if changed == example || strings.Count(changed, "unkey_permission.write.slug") != 1 {
		t.Fatal("the example no longer has the lines this test changes")
	}
	const legacyKey = "acme_live_2f8Kq9XmPz4RtY7w"

	checkVerification := func(wantPerms ...string) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			identityID := s.RootModule().Resources["unkey_identity.acme"].Primary.ID
			for _, key := range []string{legacyKey, s.RootModule().Resources["unkey_key.acme_staging"].Primary.Attributes["key"]} {
				v := u.verify(t, key)
				slices.Sort(v.Permissions)
				if !v.Valid || v.Identity == nil || v.Identity.ID != identityID || !slices.Equal(v.Permissions, wantPerms) {
					return fmt.Errorf("verifying %.9s...: %+v (identity %+v), want permissions %v and identity %s", key, v, v.Identity, wantPerms, identityID)
				}
			}
			return nil
		}
	}
	noOp := func(addrs ...string) []plancheck.PlanCheck {
		var out []plancheck.PlanCheck
		for _, a := range addrs {
			out = append(out, plancheck.ExpectResourceAction(a, plancheck.ResourceActionNoop))
		}
		return out
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: example,
				Check:  checkVerification("invoices.read"),
			},
			{
				Config: changed,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: append(noOp("unkey_api.payments", "unkey_permission.read", "unkey_permission.write", "unkey_key_migration.legacy", "unkey_key.acme_staging"),
						plancheck.ExpectResourceAction("unkey_role.customer", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("unkey_identity.acme", plancheck.ResourceActionUpdate),
					),
				},
				Check: resource.ComposeTestCheckFunc(
					checkVerification("invoices.read", "invoices.write"),
					func(*terraform.State) error {
						got, err := u.client(t).GetIdentity(t.Context(), "acme")
						if err != nil || len(got.Ratelimits) != 1 || got.Ratelimits[0].Limit != 2000 {
							return fmt.Errorf("identity rate limit not changed: %+v, %w", got, err)
						}
						return nil
					},
				),
			},
		},
	})
}
