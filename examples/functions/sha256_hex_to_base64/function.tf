# A legacy export holding the hex SHA-256 of each full key, migrated under a
# plain sha256 migration. Terraform 1.8+ or OpenTofu 1.7+.
resource "unkey_key_migration" "from_hex" {
  migration_id = "mig_acme"
  api_id       = "api_123"
  hash_format  = "sha256_base64"
  keys = {
    for k in jsondecode(file("${path.module}/hex-export.json")) :
    provider::unkey::sha256_hex_to_base64(k.sha256_hex) => { name = k.name }
  }
}
