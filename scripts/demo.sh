#!/usr/bin/env bash
# The main job: set up, build, and run `editgate demo` on the embedded fixture.
# Arguments go to `editgate demo` (see `editgate demo --help`). Builds only the
# editgate binary: the test binaries are most of the build and the demo runs
# none of them (scripts/test.sh builds everything).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EDITGATE_TARGETS=editgate "$root/scripts/build.sh"
# --force: a second run replaces the first run's report directory; it never
# replaces anything editgate did not write (docs/design.md, the output rule).
exec "${EDITGATE_BUILD_DIR:-$root/build}/cli/editgate" demo --force "$@"
