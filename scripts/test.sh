#!/usr/bin/env bash
# The whole test suite: set up, build, and run every test with ctest, except
# the fixture retraining (label slow) and the editors' behaviour targets on the
# fixture (label targets, which the current fixture misses): minutes each;
# EDITGATE_SLOW_TESTS=1 includes them. Arguments go to ctest (-L conformance, -R Rome).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
cd "${EDITGATE_BUILD_DIR:-$root/build}"
exclude=(-LE "slow|targets")
[[ "${EDITGATE_SLOW_TESTS:-0}" == 1 ]] && exclude=()
exec ctest --output-on-failure --no-tests=error -j "${EDITGATE_JOBS:-$(nproc)}" "${exclude[@]}" "$@"
