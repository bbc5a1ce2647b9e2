resource "unkey_permission" "invoices_read" {
  name        = "Read invoices"
  slug        = "invoices.read"
  description = "List and download invoices."
}
