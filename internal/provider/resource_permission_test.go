package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/unkeyed/terraform-provider-unkey/internal/acctest"
)

func TestAccPermission_lifecycle(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	cfg := func(slug, description string) string {
		return u.providerBlock() + fmt.Sprintf(`
resource "unkey_permission" "test" {
  name        = "Read documents"
  slug        = %q
  description = %q
}
`, slug, description)
	}
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: cfg("documents.read", "reads"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("unkey_permission.test", tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^perm_`))),
				},
				Check: func(s *terraform.State) error {
					id = s.RootModule().Resources["unkey_permission.test"].Primary.ID
					p, err := u.client(t).GetPermission(context.Background(), id)
					if err != nil || p.Slug != "documents.read" || p.Description != "reads" {
						return fmt.Errorf("in Unkey: %+v, %w", p, err)
					}
					return nil
				},
			},
			{ResourceName: "unkey_permission.test", ImportState: true, ImportStateVerify: true},
			{ResourceName: "unkey_permission.test", ImportState: true, ImportStateVerify: true, ImportStateId: "documents.read"},
			{
				// Unkey has no update: a change replaces it.
				Config: cfg("documents.read", "reads documents"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_permission.test", plancheck.ResourceActionDestroyBeforeCreate)},
				},
			},
			{
				// Deleted outside Terraform: it leaves state and is created again.
				PreConfig: func() {
					if err := u.client(t).DeletePermission(context.Background(), "documents.read"); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg("documents.read", "reads documents"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("unkey_permission.test", plancheck.ResourceActionCreate)},
				},
			},
		},
	})
}

func TestAccPermission_invalidAndDuplicate(t *testing.T) {
	t.Parallel()
	u := startLocalUnkey(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: u.providerBlock() + `
resource "unkey_permission" "x" {
  name = "x"
  slug = "has space"
}`,
				ExpectError: errorLike(`slug`, "may contain only letters, digits and the characters"),
				PlanOnly:    true,
			},
			{
				Config: u.providerBlock() + `
resource "unkey_permission" "a" {
  name = "a"
  slug = "same"
}
resource "unkey_permission" "b" {
  name       = "b"
  slug       = "same"
  depends_on = [unkey_permission.a]
}`,
				ExpectError: errorLike("Could not create the Unkey permission", "409", "terraform import unkey_permission.<name> same"),
			},
		},
	})
}

// A permission, role or identity has no API to tell a deletion from another
// workspace: with a root key of another workspace, Terraform's conventional
// drift stands (it leaves state), but a destroy that finds nothing says
// what the 404 may hide instead of passing for a deletion.
func TestAccPermission_destroyWithARootKeyOfAnotherWorkspaceWarns(t *testing.T) {
	t.Parallel()
	u := startLocalUnkeyWithStaging(t)
	w := acctest.NewWorkdir(t, acctest.BuildProvider(t))
	cfg := u.providerBlock() + `
resource "unkey_permission" "test" {
  name = "documents.read"
  slug = "documents.read"
}

resource "unkey_role" "test" {
  name = "reader"
}

resource "unkey_identity" "test" {
  external_id = "acme"
}
`
	w.WriteConfig(cfg)
	if o, err := w.Run("apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, o)
	}
	w.WriteConfig(withOtherWorkspaceRootKey(u, cfg))
	o, err := w.Run("destroy", "-auto-approve", "-refresh=false")
	if err != nil {
		t.Fatalf("destroy with the other workspace's root key: %v\n%s", err, o)
	}
	for _, what := range []string{"permission", "role", "identity"} {
		if !strings.Contains(flatten(o), "Warning: Unkey "+what+" not found with this root key") || !strings.Contains(flatten(o), "which then still exists there") {
			t.Errorf("the destroy does not warn about the %s:\n%s", what, o)
		}
	}
	c := u.client(t)
	ctx := context.Background()
	if _, err := c.GetPermission(ctx, "documents.read"); err != nil {
		t.Errorf("the permission is gone from its workspace: %v", err)
	}
	if _, err := c.GetRole(ctx, "reader"); err != nil {
		t.Errorf("the role is gone from its workspace: %v", err)
	}
	if _, err := c.GetIdentity(ctx, "acme"); err != nil {
		t.Errorf("the identity is gone from its workspace: %v", err)
	}
}
