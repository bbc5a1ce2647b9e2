# By ID or by name.
terraform import unkey_role.billing_viewer role_1234
terraform import unkey_role.billing_viewer billing.viewer
