resource "unkey_api" "payments" {
  name = "payments"
}

resource "unkey_key_migration" "legacy" {
  migration_id = "mig_acme"
  api_id       = unkey_api.payments.id
  keys = {
    "J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk=" = { name = "Acme production" }
  }
}
