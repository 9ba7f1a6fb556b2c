#!/usr/bin/env bash
# Which targets the entry scripts build (issue 17 item 7): scripts/demo.sh
# builds only the editgate binary, scripts/test.sh everything. Runs copies of
# the scripts in a temp root with setup.sh stubbed out and cmake, ctest and
# editgate replaced by recorders, so it takes a second and builds nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/repo/scripts" "$tmp/bin" "$tmp/build/cli"
cp "$root"/scripts/{build,cores,demo,test}.sh "$tmp/repo/scripts/"
printf '#!/bin/sh\nexit 0\n' >"$tmp/repo/scripts/setup.sh"
: >"$tmp/build/build.ninja"  # configured already: build.sh goes straight to the build step
for tool in cmake ctest; do
  printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n' "$tool" "$tmp" >"$tmp/bin/$tool"
done
printf '#!/bin/sh\necho "editgate $*" >>"%s/calls"\n' "$tmp" >"$tmp/build/cli/editgate"
chmod +x "$tmp"/bin/* "$tmp/build/cli/editgate" "$tmp"/repo/scripts/*.sh
export PATH="$tmp/bin:$PATH" EDITGATE_BUILD_DIR="$tmp/build"
unset EDITGATE_TARGETS EDITGATE_JOBS

fail() { echo "build_targets_test: $*" >&2; echo "calls:" >&2; cat "$tmp/calls" >&2; exit 1; }

"$tmp/repo/scripts/demo.sh" --report-dir x
grep -Eq '^cmake --build .* --target editgate$' "$tmp/calls" ||
  fail "demo.sh must build only the editgate target (cmake --build ... --target editgate)"
grep -q '^editgate demo --force --report-dir x$' "$tmp/calls" || fail "demo.sh did not run editgate demo --force with its arguments"

: >"$tmp/calls"
EDITGATE_TARGETS=editgate "$tmp/repo/scripts/test.sh" -L unit
grep '^cmake --build' "$tmp/calls" | grep -q -- '--target' &&
  fail "test.sh must build every target (no --target), even with EDITGATE_TARGETS set"
grep -q '^ctest .*-L unit$' "$tmp/calls" || fail "test.sh did not run ctest with its arguments"

# Both count the cores as if OMP_NUM_THREADS were unset: GNU nproc answers it when it
# is set, and test.sh sets it to 1, which once made ctest run the suite on one core.
: >"$tmp/calls"
cores="$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)"
OMP_NUM_THREADS=1 "$tmp/repo/scripts/test.sh" -L unit
grep -q "^ctest .* -j $cores .*-L unit\$" "$tmp/calls" || fail "test.sh must run ctest -j $cores (one test per core)"
grep -Eq "^cmake --build .* -j $cores( |\$)" "$tmp/calls" || fail "build.sh must build with -j $cores"
echo "build_targets_test: demo.sh builds editgate only, test.sh builds everything, both on every core"
