#!/usr/bin/env bash
# The main job, offline and on a fresh machine with only Go: build the
# provider and the local Unkey-compatible API, migrate a few thousand
# generated legacy keys with `terraform apply`, show the result, and prove
# that a migrated key verifies with its original raw value.
#
#   bash scripts/demo.sh        (or: make demo)
#
# DEMO_KEYS sets how many keys to migrate (default 3000). Everything is
# written to .cache/demo/ (gitignored), which is recreated on each run. The
# keys go in through keys_json, the input the docs recommend above 1,000
# keys. The demo fails if Terraform prints a warning, but for the notice
# that the dev_overrides below are in effect.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N="${DEMO_KEYS:-3000}"
WORK="$PWD/.cache/demo"
BIN="$WORK/bin"
TFDIR="$WORK/tf"

step() {
  if [ -n "${step_start:-}" ]; then echo "    ($((SECONDS - step_start))s)"; fi
  step_start=$SECONDS
  printf '\n==> %s\n' "$*"
}
fail() { printf '\ndemo failed: %s\n' "$*" >&2; exit 1; }

SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$WORK"
mkdir -p "$BIN" "$TFDIR"

step "Building the provider, the local Unkey API and genkeys"
go build -o "$BIN/terraform-provider-unkey" .
go build -o "$WORK/unkey-local" ./cmd/unkey-local
go build -o "$WORK/genkeys" ./cmd/genkeys
echo "    $BIN/terraform-provider-unkey"

step "Finding the Terraform CLI (building Terraform 1.5.7 with go install if there is none: about three minutes, once)"
TERRAFORM="$(go run ./internal/acctest/cmd/ensure-terraform)"
TF_VERSION="$(CHECKPOINT_DISABLE=1 "$TERRAFORM" version 2>/dev/null)" || fail "$TERRAFORM does not run"
echo "    $TERRAFORM (${TF_VERSION%%$'\n'*})"

step "Starting the local Unkey API on a free loopback port"
"$WORK/unkey-local" -addr 127.0.0.1:0 >"$WORK/unkey-local.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  grep -q '^seam_migration_id=' "$WORK/unkey-local.log" && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
grep -q '^seam_migration_id=' "$WORK/unkey-local.log" || {
  cat "$WORK/unkey-local.log" >&2
  fail "the local Unkey API did not start"
}
value() { sed -n "s/^$1=//p" "$WORK/unkey-local.log"; }
UNKEY_API_URL="$(value UNKEY_API_URL)"
UNKEY_ROOT_KEY="$(value UNKEY_ROOT_KEY)" # a fake, local credential; still never printed
API_ID="$(value api_id)"
MIGRATION_ID="$(value migration_id)"
export UNKEY_API_URL UNKEY_ROOT_KEY
echo "    $UNKEY_API_URL (api $API_ID, migration $MIGRATION_ID)"

step "Generating $N legacy keys"
"$WORK/genkeys" -n "$N" -seed 1 -out-keys "$WORK/raw-keys.json" -out-json "$TFDIR/keys.json"
# The first key is always enabled and unexpiring (see cmd/genkeys); it is
# the one verified at the end. The file is one line of compact JSON.
FIRST='^\[{"key":"\([^"]*\)","hash":"\([^"]*\)"}.*'
RAW_KEY="$(sed -n "s/$FIRST/\\1/p" "$WORK/raw-keys.json")"
HASH="$(sed -n "s/$FIRST/\\2/p" "$WORK/raw-keys.json")"
{ [ -n "$RAW_KEY" ] && [ -n "$HASH" ]; } || fail "could not read the first key from $WORK/raw-keys.json"
echo "    $TFDIR/keys.json (Unkey's keys.migrateKeys format), $WORK/raw-keys.json (raw keys)"

# dev_overrides points Terraform at the provider just built, so there is
# no `terraform init` and nothing is downloaded (the README shows the same
# for your own configurations).
cat >"$WORK/terraform.rc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/unkeyed/unkey" = "$BIN"
  }
  direct {}
}
RC
cat >"$TFDIR/main.tf" <<TF
terraform {
  required_providers {
    unkey = { source = "unkeyed/unkey" }
  }
}

# api_url and root_key come from UNKEY_API_URL and UNKEY_ROOT_KEY.
provider "unkey" {}

resource "unkey_key_migration" "legacy" {
  migration_id = "$MIGRATION_ID"
  api_id       = "$API_ID"
  hash_format  = "sha256_base64"
  batch_size   = 500
  keys_json    = file("\${path.module}/keys.json")
}

locals {
  # key_ids_json is sensitive only to keep thousands of key IDs out of plans.
  key_ids = jsondecode(nonsensitive(unkey_key_migration.legacy.key_ids_json))
}

output "migrated_keys" { value = length(local.key_ids) }
output "failed_keys" { value = length(unkey_key_migration.legacy.failed_hashes) }
output "sample_key_id" { value = local.key_ids["$HASH"] }
TF

export TF_CLI_CONFIG_FILE="$WORK/terraform.rc" TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
tf() { (cd "$TFDIR" && "$TERRAFORM" "$@"); }

# no_warnings LOG fails the demo if Terraform printed into LOG a warning
# other than its notice that dev_overrides are in effect.
no_warnings() {
  if grep '^Warning:' "$1" | grep -qv 'Provider development overrides are in effect'; then
    grep -A6 '^Warning:' "$1" >&2
    fail "Terraform printed a warning (above; the full log is $1)"
  fi
}

step "terraform apply ($N keys; the full log is in $WORK/apply.log)"
# Terraform's own progress lines, as they come.
apply_rc=0
tf apply -auto-approve -no-color 2>&1 | tee "$WORK/apply.log" |
  grep --line-buffered -E '^(unkey_key_migration\.legacy: |Apply complete)' | sed -u 's/^/    /' || apply_rc=$?
if [ "$apply_rc" != 0 ] || ! grep -q '^Apply complete' "$WORK/apply.log"; then
  tail -n 40 "$WORK/apply.log" >&2
  fail "terraform apply failed"
fi
no_warnings "$WORK/apply.log"

step "Result"
MIGRATED="$(tf output -raw migrated_keys)"
FAILED="$(tf output -raw failed_keys)"
SAMPLE_KEY_ID="$(tf output -raw sample_key_id)"
echo "    migrated keys: $MIGRATED"
echo "    failed keys:   $FAILED"
[ "$MIGRATED" = "$N" ] || fail "expected $N migrated keys, got $MIGRATED"

step "terraform plan with the same configuration (expecting no changes)"
plan_rc=0
tf plan -detailed-exitcode -no-color >"$WORK/plan.log" 2>&1 || plan_rc=$?
case "$plan_rc" in
  0) no_warnings "$WORK/plan.log"; echo "    no changes" ;;
  2) grep -E '^Plan:|will be|must be' "$WORK/plan.log" >&2 || true; fail "the plan after apply is not empty (see $WORK/plan.log)" ;;
  *) tail -n 40 "$WORK/plan.log" >&2; fail "terraform plan failed" ;;
esac

step "Verifying a migrated key with its original raw value (keys.verifyKey)"
# The root key goes in a header file rather than on curl's command line.
umask 077
printf 'Authorization: Bearer %s\n' "$UNKEY_ROOT_KEY" >"$WORK/auth.header"
ANSWER="$(curl -sS -X POST "$UNKEY_API_URL/v2/keys.verifyKey" \
  -H @"$WORK/auth.header" -H 'Content-Type: application/json' \
  --data "{\"key\":\"$RAW_KEY\"}")" || fail "could not reach $UNKEY_API_URL"
rm -f "$WORK/auth.header"
echo "    key:    ${RAW_KEY:0:12}… (hash $HASH)"
echo "    answer: $ANSWER"
case "$ANSWER" in
  *'"valid":true'*) ;;
  *) fail "the migrated key did not verify" ;;
esac
case "$ANSWER" in
  *"\"keyId\":\"$SAMPLE_KEY_ID\""*) echo "    keyId matches key_ids_json[\"$HASH\"] = $SAMPLE_KEY_ID" ;;
  *) fail "verified as a different key than key_ids_json[\"$HASH\"] = $SAMPLE_KEY_ID" ;;
esac

step "Demo complete: $MIGRATED keys migrated (failed: $FAILED) and a legacy key verifies unchanged, no rotation needed."
echo "    (the whole demo: ${SECONDS}s)"
