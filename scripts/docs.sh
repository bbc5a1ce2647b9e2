#!/usr/bin/env bash
# Regenerates docs/ with tfplugindocs from the provider's schema, examples/
# and templates/. The schema is read through OpenTofu, the only CLI that can
# be installed here and reports provider-defined functions (Terraform 1.5.7
# does not, so the function page would be missing).
#   bash scripts/docs.sh          # regenerate (make docs)
#   bash scripts/docs.sh --check  # regenerate, fail if docs/ changed
set -euo pipefail
# scripts/test.sh reads this line to build tfplugindocs ahead of time.
TFPLUGINDOCS=github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs@v0.25.0
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then
  unset TF_CLI_CONFIG_FILE
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go build -o "$work/bin/terraform-provider-unkey" .
tofu="$(go run ./internal/acctest/cmd/ensure-terraform -opentofu)"
cat >"$work/tofurc" <<RC
provider_installation {
  dev_overrides {
    "registry.opentofu.org/unkeyed/unkey" = "$work/bin"
  }
  direct {}
}
RC
printf 'terraform {\n  required_providers {\n    unkey = { source = "unkeyed/unkey" }\n  }\n}\n' >"$work/main.tf"
(cd "$work" && TF_CLI_CONFIG_FILE="$work/tofurc" "$tofu" providers schema -json 2>/dev/null) |
  # tfplugindocs looks the provider up under Terraform's default address.
  sed 's#"registry.opentofu.org/unkeyed/unkey"#"registry.terraform.io/hashicorp/unkey"#' >"$work/schema.json"

go run "$TFPLUGINDOCS" generate \
  --provider-name unkey --providers-schema "$work/schema.json" >/dev/null

if [ "${1:-}" = "--check" ] && [ -n "$(git status --porcelain -- docs)" ]; then
  git status --short -- docs >&2
  echo "docs/ is out of date: run 'make docs' and commit the result" >&2
  exit 1
fi
