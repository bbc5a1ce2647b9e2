#!/usr/bin/env bash
# The project's test command, also run by CI (.ci/run): go vet, then every
# test, acceptance tests included, against the real Terraform CLI. Needs
# only Go: a Terraform CLI of 1.5 or later is taken from TF_ACC_TERRAFORM_PATH
# or PATH, or else built once with `go install` (Terraform 1.5.7, about three
# minutes) into ${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-unkey/.
#
#   bash scripts/test.sh                 # vet + all tests (make testacc)
#   bash scripts/test.sh --unit          # vet + unit tests only (make test)
#   bash scripts/test.sh -run TestName   # extra arguments go to `go test`
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# A TF_CLI_CONFIG_FILE naming a missing file makes both CLIs print a
# warning before their JSON output; ignore it.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then
  unset TF_CLI_CONFIG_FILE
fi

acc=1
if [ "${1:-}" = "--unit" ]; then
  acc=0
  shift
fi

echo "==> go vet ./..."
go vet ./...

echo "==> golangci-lint (v2, .golangci.yml)"
go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0 run ./...

if [ "$acc" = 0 ]; then
  echo "==> go test ./... (unit tests; acceptance tests skip without TF_ACC)"
  unset TF_ACC
  go test ./... -count=1 "$@"
  exit
fi

# Find or install the CLI here, before the tests, so that an install's
# progress shows as it happens (go test holds back each package's output
# until it finishes) and happens once rather than per test package.
echo "==> Terraform CLI"
TF_ACC_TERRAFORM_PATH="$(go run ./internal/acctest/cmd/ensure-terraform)"
export TF_ACC_TERRAFORM_PATH
echo "    $TF_ACC_TERRAFORM_PATH"

echo "==> TF_ACC=1 go test ./... (unit and acceptance tests)"
TF_ACC=1 CHECKPOINT_DISABLE=1 go test ./... -count=1 -timeout 60m "$@"

# Fuzz every parser and converter of user input for a bounded time; the
# seed corpora under testdata/fuzz/ already ran as unit tests above.
echo "==> fuzzing (${FUZZTIME:=10s} per target)"
for target in ./internal/provider:FuzzCheckHash ./internal/provider:FuzzKeySettingsConversion ./internal/provider:FuzzParseKeysJSON ./internal/unkeyclient:FuzzPlanBatches; do
  go test "${target%%:*}" -run '^$' -fuzz "^${target##*:}\$" -fuzztime "$FUZZTIME" >/dev/null || {
    go test "${target%%:*}" -run "^${target##*:}\$" -count=1
    echo "fuzzing ${target} found a failure (saved under testdata/fuzz/)" >&2
    exit 1
  }
done

# Provider-defined functions need Terraform 1.8+, which cannot be installed
# here, so the acceptance tests run once more on OpenTofu (built from its Go
# module once per machine, about four minutes). Each CLI skips what it lacks.
echo "==> OpenTofu CLI"
TOFU="$(go run ./internal/acctest/cmd/ensure-terraform -opentofu)"
echo "    $TOFU"
echo "==> TF_ACC=1 go test ./internal/provider/... on OpenTofu"
TF_ACC=1 CHECKPOINT_DISABLE=1 TF_ACC_TERRAFORM_PATH="$TOFU" TF_ACC_PROVIDER_HOST=registry.opentofu.org \
  go test ./internal/provider/... -count=1 -timeout 60m "$@"

echo "==> docs/ matches the schema, examples/ and templates/ (make docs)"
bash scripts/docs.sh --check

# The release pipeline, without signing: goreleaser v2.14.0 is the newest
# release that builds with this Go toolchain from the module proxy. Set
# SKIP_RELEASE_SNAPSHOT=1 to leave it out of a local run (it cross-compiles
# 15 targets: about 14 minutes with a cold build cache).
if [ "${SKIP_RELEASE_SNAPSHOT:-}" != 1 ]; then
  echo "==> goreleaser check and snapshot release"
  tools="${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-unkey/tools"
  if [ ! -x "$tools/goreleaser" ]; then
    GOBIN="$tools" go install github.com/goreleaser/goreleaser/v2@v2.14.0
  fi
  "$tools/goreleaser" check
  "$tools/goreleaser" release --snapshot --clean --skip=sign >/dev/null
  grep -q '_manifest.json$' dist/*_SHA256SUMS || { echo "the checksums do not cover the registry manifest" >&2; exit 1; }
  unzip -l dist/*_linux_amd64.zip | grep -q 'terraform-provider-unkey_v' || { echo "the linux_amd64 zip has no provider binary" >&2; exit 1; }
  rm -rf dist
fi
