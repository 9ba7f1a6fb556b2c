#!/usr/bin/env bash
# Lints .github/workflows/*.yml offline with two tools from the project venv
# (pinned in scripts/setup.sh): check-jsonschema against its vendored GitHub
# workflow schema (structure: keys, types, required fields) and zizmor in
# offline mode (security audits; configuration and the one justified policy
# change in .github/zizmor.yml). Then checks that each tool still rejects a
# broken copy, so a lint that silently passes everything fails this test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${EDITGATE_VENV:-$root/.venv}"
schema_bin="$venv/bin/check-jsonschema"
zizmor_bin="$venv/bin/zizmor"
for bin in "$schema_bin" "$zizmor_bin"; do
  [[ -x "$bin" ]] || { echo "workflow_lint_test: $bin not found: run scripts/setup.sh (installs check-jsonschema and zizmor into .venv)" >&2; exit 1; }
done

schema() { "$schema_bin" --builtin-schema vendor.github-workflows "$@"; }
audit() { "$zizmor_bin" --offline --no-progress --quiet --config "$root/.github/zizmor.yml" "$@"; }

cd "$root"
shopt -s nullglob
files=(.github/workflows/*.yml .github/workflows/*.yaml)
((${#files[@]})) || { echo "workflow_lint_test: no workflow files under .github/workflows" >&2; exit 1; }
schema "${files[@]}"
audit "${files[@]}"

# The broken copies: a step with an unknown key (schema) and a pull-request
# title expanded into a shell command (zizmor's template-injection audit).
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/.github/workflows"
sed 's/^\(      - name: Build\)$/\1\n        runz: typo/' .github/workflows/ci.yml >"$tmp/.github/workflows/ci.yml"
cmp -s .github/workflows/ci.yml "$tmp/.github/workflows/ci.yml" && { echo "workflow_lint_test: could not break the copy of ci.yml" >&2; exit 1; }
if schema "$tmp/.github/workflows/ci.yml" >"$tmp/schema.log" 2>&1; then
  echo "workflow_lint_test: check-jsonschema accepted a step with the unknown key 'runz'" >&2; exit 1
fi
cat >"$tmp/.github/workflows/inject.yml" <<'YML'
name: inject
on: pull_request_target
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
YML
schema "$tmp/.github/workflows/inject.yml" >/dev/null  # valid structure: only zizmor can catch it
if audit "$tmp/.github/workflows/inject.yml" >"$tmp/zizmor.log" 2>&1; then
  echo "workflow_lint_test: zizmor accepted a pull-request title expanded into a shell command" >&2; exit 1
fi
echo "workflow lint: ${#files[@]} workflow files clean; broken copies rejected"
