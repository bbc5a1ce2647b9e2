data "unkey_key" "acme" {
  key_id = unkey_key_migration.legacy.key_ids["J9wn0fWY6TNt4c6Pp0nB0cAnUQhDTFXM3CvpWwAKbSk="]
}

output "acme_key_enabled" {
  value = data.unkey_key.acme.enabled
}
