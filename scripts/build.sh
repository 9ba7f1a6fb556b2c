#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and builds editgate into build/ with Ninja and
# ccache. Extra arguments go to the CMake configure step (e.g.
# -DEDITGATE_BUILD_BENCHMARKS=ON). EDITGATE_TARGETS (space-separated) builds
# only those targets, e.g. EDITGATE_TARGETS=editgate for the demo, which then
# skips the test binaries; unset builds everything. Quiet when nothing changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
build="${EDITGATE_BUILD_DIR:-$root/build}"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.ccache}"
if [[ ! -f "$build/build.ninja" || $# -gt 0 ]]; then
  mkdir -p "$build"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; exit 2; }
fi
jobs="$("$root/scripts/cores.sh")"
targets=()
for t in ${EDITGATE_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build" -j "$jobs" "${targets[@]}"
