# A key ID as recorded by unkey_key_migration, for example
# unkey_key_migration.legacy.key_ids["<hash>"].
data "unkey_key" "acme" {
  key_id = "key_2cGKbMxRyIzhCxo1Idjz8q"
}

output "acme_key_enabled" {
  value = data.unkey_key.acme.enabled
}

# Rate limits are ordered by name and roles and permissions are sets, so
# every read gives the same value whatever order Unkey answers in.
output "acme_rate_limits" {
  value = { for rl in data.unkey_key.acme.ratelimits : rl.name => rl.limit }
}
