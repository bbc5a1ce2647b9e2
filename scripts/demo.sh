#!/usr/bin/env bash
# The main job, offline: build the provider and the local Unkey-compatible API,
# migrate a few thousand generated legacy keys with `terraform apply`, show the
# result, and prove that a migrated key verifies with its original raw value.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${DEMO_KEYS:-3000}"
WORK="$PWD/.cache/demo"
rm -rf "$WORK" && mkdir -p "$WORK/bin" "$WORK/tf"

echo "==> Building the provider and the local Unkey API"
go build -o "$WORK/bin/terraform-provider-unkey" .
go build -o "$WORK/unkey-local" ./cmd/unkey-local
go build -o "$WORK/genkeys" ./cmd/genkeys

echo "==> Finding the Terraform CLI (installing Terraform 1.5.7 with go install if missing)"
TERRAFORM="$(go run ./internal/acctest/cmd/ensure-terraform)"
"$TERRAFORM" version | head -n 1

echo "==> Starting the local Unkey API on a free loopback port"
"$WORK/unkey-local" -addr 127.0.0.1:0 >"$WORK/unkey-local.out" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q '^seam_migration_id=' "$WORK/unkey-local.out" 2>/dev/null && break
  sleep 0.1
done
value() { sed -n "s/^$1=//p" "$WORK/unkey-local.out"; }
export UNKEY_API_URL UNKEY_ROOT_KEY
UNKEY_API_URL="$(value UNKEY_API_URL)"
UNKEY_ROOT_KEY="$(value UNKEY_ROOT_KEY)" # a fake, local credential; never printed
API_ID="$(value api_id)"
MIGRATION_ID="$(value migration_id)"
[ -n "$UNKEY_API_URL" ] || { echo "the local API did not start:"; cat "$WORK/unkey-local.out"; exit 1; }
echo "    $UNKEY_API_URL (api $API_ID, migration $MIGRATION_ID)"

echo "==> Generating $N legacy keys"
"$WORK/genkeys" -n "$N" -out-keys "$WORK/raw-keys.json" -out-tf "$WORK/tf/keys.json"

cat >"$WORK/terraform.rc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/unkeyed/unkey" = "$WORK/bin"
  }
  direct {}
}
RC
cat >"$WORK/tf/main.tf" <<TF
terraform {
  required_providers {
    unkey = { source = "unkeyed/unkey" }
  }
}

provider "unkey" {} # UNKEY_API_URL and UNKEY_ROOT_KEY come from the environment

resource "unkey_key_migration" "legacy" {
  migration_id = "$MIGRATION_ID"
  api_id       = "$API_ID"
  hash_format  = "sha256_base64"
  batch_size   = 500
  keys         = jsondecode(file("\${path.module}/keys.json"))
}

output "migrated" { value = length(unkey_key_migration.legacy.key_ids) }
output "failed" { value = length(unkey_key_migration.legacy.failed_hashes) }
TF

export TF_CLI_CONFIG_FILE="$WORK/terraform.rc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
echo "==> terraform apply ($N keys)"
start=$(date +%s)
(cd "$WORK/tf" && "$TERRAFORM" apply -auto-approve -no-color | grep -v '^\s*[+~-] \|^\s*}\|^\s*$' | tail -n 5)
echo "    took $(( $(date +%s) - start ))s"
(cd "$WORK/tf" && "$TERRAFORM" output -no-color)

echo "==> terraform plan (should be empty)"
(cd "$WORK/tf" && "$TERRAFORM" plan -detailed-exitcode -no-color >/dev/null) && echo "    no changes"

echo "==> Verifying a migrated key with its original raw value"
RAW_KEY="$(sed -n 's/^\[{"key":"\([^"]*\)".*/\1/p' "$WORK/raw-keys.json")"
ANSWER="$(curl -sS -X POST "$UNKEY_API_URL/v2/keys.verifyKey" \
  -H "Authorization: Bearer $UNKEY_ROOT_KEY" -H 'Content-Type: application/json' \
  -d "{\"key\":\"$RAW_KEY\"}")"
echo "    $ANSWER"
case "$ANSWER" in
  *'"valid":true'*) echo "==> Demo complete: $N keys migrated without rotating any of them." ;;
  *) echo "the migrated key did not verify"; exit 1 ;;
esac
