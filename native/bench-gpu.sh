#!/usr/bin/env bash
# The GPU benchmark table of native/README.md: tokens/s at B = 1, 64, 512, 4096 for a 169M-shaped v4 and a
# 0.1B-shaped v7 (FP16, random weights), bytes per step and the fraction of the measured copy bandwidth.
#
# On a machine with a GPU and this checkout (Maven, Java):   native/bench-gpu.sh [GpuBench options]
# On a GPU machine with only the kit (see native/README.md):  target/gpu-kit/run-bench.sh --random /tmp/models
# Extra arguments go to GpuBench (e.g. --batches 1,64 --seconds 5, or model files of your own).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ ! -x "$root/target/gpu-kit/run-bench.sh" ]]; then
  "$root/native/gpu-kit.sh" --no-models --no-jre
fi
models="${MODELS_DIR:-${TMPDIR:-/tmp}/flink-rwkv-bench-models}"
exec "$root/target/gpu-kit/run-bench.sh" --random "$models" "$@"
