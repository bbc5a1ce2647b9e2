data "unkey_permission" "invoices_read" {
  slug = "invoices.read"
}
