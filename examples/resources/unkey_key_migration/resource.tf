# Keys exported from the legacy system: one object per key, with the standard
# base64 SHA-256 of the whole key as "hash".
locals {
  legacy_keys = jsondecode(file("${path.module}/legacy-keys.json"))
}

resource "unkey_key_migration" "legacy" {
  migration_id = "mig_acme"
  api_id       = "api_123"
  hash_format  = "sha256_base64"

  keys = {
    for k in local.legacy_keys : k.hash => {
      name        = k.name
      external_id = k.owner
      meta        = jsonencode({ plan = k.plan })
      roles       = k.plan == "enterprise" ? ["admin"] : []
    }
  }
}

# Thousands of keys: a file of one JSON array in Unkey's own migrateKeys format
# (camelCase fields, expires in Unix milliseconds, durations in milliseconds),
# read by the provider itself: the keys never pass through Terraform's plan or
# state, a plan reads the file only when its hash changes, and the plan shows
# change_summary ("1 to migrate, 0 to update, 0 to remove"). keys_json takes
# the same array as a string: keys_json = file("${path.module}/unkey-export.json").
resource "unkey_key_migration" "bulk" {
  migration_id     = "mig_acme"
  api_id           = "api_123"
  hash_format      = "sha256_base64"
  keys_file        = "${path.module}/unkey-export.json"
  keys_file_sha256 = filesha256("${path.module}/unkey-export.json")
}

# key_ids_json is marked sensitive only to keep a large mapping out of plan output.
output "bulk_migrated" {
  value = length(jsondecode(nonsensitive(unkey_key_migration.bulk.key_ids_json)))
}

# A single key, with every setting.
resource "unkey_key_migration" "partner" {
  migration_id    = "mig_acme"
  api_id          = "api_123"
  hash_format     = "sha256_base64"
  batch_size      = 100
  deletion_policy = "abandon"

  keys = {
    "J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk=" = {
      name        = "Acme production"
      external_id = "user_123"
      meta        = jsonencode({ plan = "pro" })
      roles       = ["admin"]
      permissions = ["documents.read"]
      expires     = "2030-01-01T00:00:00Z"
      enabled     = true
      credits = {
        remaining = 1000
        refill    = { interval = "monthly", amount = 1000, refill_day = 1 }
      }
      ratelimits = [{ name = "requests", limit = 100, duration = "1m", auto_apply = true }]
    }
  }
}

output "partner_key_id" {
  value = unkey_key_migration.partner.key_ids["J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk="]
}
