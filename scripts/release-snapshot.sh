#!/usr/bin/env bash
# An unsigned snapshot release into dist/, with goreleaser v2.14.0 (the
# newest release that builds with this Go toolchain from the module proxy),
# built once into ${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-unkey/tools.
#
#   bash scripts/release-snapshot.sh                  # every target (make release-snapshot)
#   bash scripts/release-snapshot.sh --single-target  # this machine's target only (scripts/test.sh)
#
# `goreleaser release` has no --single-target (only `goreleaser build` has,
# and it makes no archives or checksums), so the single-target snapshot runs
# the real release pipeline on a copy of .goreleaser.yml whose goos and
# goarch lists hold only this machine's.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools="${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-unkey/tools"
if [ ! -x "$tools/goreleaser" ]; then
  echo "building goreleaser v2.14.0 into $tools" >&2
  GOBIN="$tools" go install github.com/goreleaser/goreleaser/v2@v2.14.0
fi

config=.goreleaser.yml
if [ "${1:-}" = "--single-target" ]; then
  config="$(mktemp --suffix=.yml)"
  trap 'rm -f "$config"' EXIT
  sed -e "s/^\(    goos: \).*/\1[$(go env GOOS)]/" -e "s/^\(    goarch: \).*/\1[$(go env GOARCH)]/" .goreleaser.yml >"$config"
  grep -q "^    goos: \[$(go env GOOS)\]\$" "$config" && grep -q "^    goarch: \[$(go env GOARCH)\]\$" "$config" || {
    echo "could not restrict $config to one target: .goreleaser.yml's goos/goarch lines moved" >&2
    exit 1
  }
fi
"$tools/goreleaser" release --snapshot --clean --skip=sign --config "$config"
