# A key ID as recorded by unkey_key_migration, for example
# unkey_key_migration.legacy.key_ids["<hash>"].
data "unkey_key" "acme" {
  key_id = "key_2cGKbMxRyIzhCxo1Idjz8q"
}

output "acme_key_enabled" {
  value = data.unkey_key.acme.enabled
}
