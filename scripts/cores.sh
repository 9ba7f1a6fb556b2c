#!/usr/bin/env bash
# Prints how many cores build and test jobs may use: $EDITGATE_JOBS, else nproc.
# GNU nproc answers OMP_NUM_THREADS when it is set, and scripts/test.sh sets it to 1
# for each test process, so the count is taken without it: with it, ctest ran the
# whole suite on one core (517 s instead of about 260 s on 2 cores).
set -euo pipefail
echo "${EDITGATE_JOBS:-$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)}"
