package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
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
