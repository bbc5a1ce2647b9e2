#!/usr/bin/env bash
# Every test: vet, unit tests, and the acceptance tests on the real Terraform
# CLI against the local Unkey-compatible API. Needs only Go: the acceptance
# tests install Terraform 1.5.7 with `go install` when no CLI is found.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> go vet"
go vet ./...

echo "==> Terraform CLI"
go run ./internal/acctest/cmd/ensure-terraform

echo "==> go test (unit and acceptance)"
TF_ACC=1 go test ./... -count=1 -timeout 60m
