# By ID or by slug.
terraform import unkey_permission.invoices_read perm_1234
terraform import unkey_permission.invoices_read invoices.read
