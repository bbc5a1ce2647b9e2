resource "unkey_identity" "acme" {
  external_id = "acme"
  meta        = jsonencode({ plan = "enterprise", seats = 25 })
  # Shared by every key of acme, migrated or created.
  ratelimits = [
    { name = "requests", limit = 1000, duration = "1m", auto_apply = true },
    { name = "exports", limit = 10, duration = "24h" },
  ]
}

resource "unkey_key_migration" "legacy" {
  migration_id = "mig_acme"
  api_id       = "api_1234"
  keys = {
    "J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk=" = { external_id = unkey_identity.acme.external_id }
  }
}
