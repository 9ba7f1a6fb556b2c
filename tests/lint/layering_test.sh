#!/usr/bin/env bash
# The layering of docs/design.md, checked on the sources: harness is the bottom
# layer; editors sits on harness; reports on harness only; fixtures on harness
# and editors; suites on editors, fixtures, reports and harness; nothing but
# cli/ includes cli/. Prints every include that runs upward and fails on any.
set -euo pipefail
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
cd "$root"
bad=0
check() {  # folder, then the folders it must not include
  local folder="$1"; shift
  local pattern
  pattern="$(IFS='|'; echo "$*")"
  if grep -rnE "#include \"($pattern)/" "$folder" --include='*.h' --include='*.cpp' --include='*.in'; then
    echo "layering: $folder/ includes from a layer above it ($*)" >&2
    bad=1
  fi
}
check harness editors suites reports fixtures cli
check editors suites reports fixtures cli
check reports editors suites fixtures cli
check fixtures suites reports cli
check suites cli
exit "$bad"
