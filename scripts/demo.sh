#!/usr/bin/env bash
# The main job: set up, build, and run `editgate demo` on the embedded fixture.
# Arguments go to `editgate demo` (see `editgate demo --help`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
exec "${EDITGATE_BUILD_DIR:-$root/build}/cli/editgate" demo "$@"
