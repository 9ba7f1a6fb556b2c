#!/usr/bin/env bash
# Runs a command on the GPU ctest allotted it. ctest --resource-spec-file sets
# CTEST_RESOURCE_GROUP_0_GPUS=id:N,slots:1 for a test with RESOURCE_GROUPS
# "gpus:1"; CUDA only understands CUDA_VISIBLE_DEVICES. Without a spec file
# ctest ignores resource groups, so fail loudly instead of sharing GPUs silently.
set -euo pipefail
spec="${CTEST_RESOURCE_GROUP_0_GPUS:-}"
if [[ -z "$spec" ]]; then
  echo "ctest_gpu_env: no GPU allotted: run ctest with --resource-spec-file (see docs/testing.md)" >&2
  exit 2
fi
id="${spec#id:}"
id="${id%%,*}"
export CUDA_VISIBLE_DEVICES="$id"
exec "$@"
