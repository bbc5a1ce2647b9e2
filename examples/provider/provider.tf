terraform {
  required_providers {
    unkey = {
      source = "unkeyed/unkey"
    }
  }
}

# The root key is best given through the environment (UNKEY_ROOT_KEY) or the
# Unkey CLI's config file (~/.unkey/config.toml), not written here.
provider "unkey" {
  api_url = "https://api.unkey.com"
}
