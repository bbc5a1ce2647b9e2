# The whole access model beside a migration, in one apply: an API, its
# permissions, a role that grants them, an identity whose rate limits all its
# keys share, the legacy keys migrated with that role and owner, and a new key
# Unkey creates. TestAccAccessModel_oneApply applies this file.

resource "unkey_api" "payments" {
  name = "payments"
}

resource "unkey_permission" "read" {
  name = "Read invoices"
  slug = "invoices.read"
}

resource "unkey_permission" "write" {
  name        = "Write invoices"
  slug        = "invoices.write"
  description = "Create and change invoices."
}

resource "unkey_role" "customer" {
  name        = "customer"
  description = "What every customer key may do."
  permissions = [unkey_permission.read.slug]
}

resource "unkey_identity" "acme" {
  external_id = "acme"
  meta        = jsonencode({ plan = "enterprise" })
  ratelimits = [
    { name = "requests", limit = 1000, duration = "1m", auto_apply = true },
  ]
}

resource "unkey_key_migration" "legacy" {
  migration_id = "mig_acme"
  api_id       = unkey_api.payments.id
  keys = {
    # base64 SHA-256 of the legacy key acme_live_2f8Kq9XmPz4RtY7w
    "mioawXpEO5cd4kz/cH/0jL7GI4pa9nMU1qex4zyXAHg=" = {
      name        = "Acme production"
      external_id = unkey_identity.acme.external_id
      roles       = [unkey_role.customer.name]
    }
  }
}

resource "unkey_key" "acme_staging" {
  api_id      = unkey_api.payments.id
  prefix      = "acme_test"
  name        = "Acme staging"
  external_id = unkey_identity.acme.external_id
  roles       = [unkey_role.customer.name]
}

output "staging_key" {
  value     = unkey_key.acme_staging.key
  sensitive = true
}
