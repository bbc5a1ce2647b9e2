resource "unkey_key" "ci" {
  api_id      = "api_1234"
  prefix      = "ci"
  name        = "CI pipeline"
  external_id = "platform-team"
  roles       = ["deployer"] # must exist: declare it with unkey_role
  meta        = jsonencode({ owner = "platform" })
  expires     = "2027-01-01T00:00:00Z"
  credits     = { remaining = 10000, refill = { interval = "monthly", amount = 10000, refill_day = 1 } }
  ratelimits  = [{ name = "requests", limit = 100, duration = "1s", auto_apply = true }]
}

# The plaintext is in state (Unkey shows it once); hand it on from there.
output "ci_key" {
  value     = unkey_key.ci.key
  sensitive = true
}
