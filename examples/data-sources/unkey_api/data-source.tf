data "unkey_api" "payments" {
  id = "api_1234"
}
