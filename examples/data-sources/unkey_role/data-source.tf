# A role a migration created on the fly.
data "unkey_role" "customer" {
  name = "customer"
}

output "customer_permissions" {
  value = data.unkey_role.customer.permissions
}
