resource "unkey_permission" "invoices_read" {
  name = "Read invoices"
  slug = "invoices.read"
}

resource "unkey_role" "billing_viewer" {
  name        = "billing.viewer"
  description = "Sees invoices, changes nothing."
  permissions = [unkey_permission.invoices_read.slug, "billing.usage.read"]
}

# Migrated keys get the role by name; referring to it makes Terraform create it first.
resource "unkey_key_migration" "legacy" {
  migration_id = "mig_acme"
  api_id       = "api_1234"
  keys = {
    "J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk=" = { roles = [unkey_role.billing_viewer.name] }
  }
}
