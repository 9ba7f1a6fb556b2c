#!/usr/bin/env bash
# The whole test suite: set up, build, and run every test with ctest.
# Arguments go to ctest (e.g. -L conformance, -LE slow, -R Rome).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
cd "${EDITGATE_BUILD_DIR:-$root/build}"
exec ctest --output-on-failure --no-tests=error -j "${EDITGATE_JOBS:-$(nproc)}" "$@"
