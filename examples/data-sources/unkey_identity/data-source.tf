data "unkey_identity" "acme" {
  external_id = "acme"
}

output "acme_plan" {
  value = jsondecode(data.unkey_identity.acme.meta).plan
}
