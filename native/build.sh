#!/usr/bin/env bash
# Builds the CUDA kernels (native/rwkv.cu) to PTX for sm_80 and sm_90 and writes them, gzipped, where the
# operator jar picks them up: flink-rwkv-operator/src/main/resources/native/rwkv-sm80.ptx.gz, rwkv-sm90.ptx.gz
# (PTX is verbose text; gzip makes it about 7x smaller in the jar and in git).
# The PTX is committed, so a build without nvcc still packages it; re-run this after changing rwkv.cu
# (`mvn -Pcuda ...` runs it too). Needs nvcc (CUDA 12 or 13); no GPU.
#
# Usage: native/build.sh [--check]   (--check: also assemble each PTX with ptxas and print register use)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../flink-rwkv-operator/src/main/resources/native"
NVCC="${NVCC:-nvcc}"
command -v "$NVCC" >/dev/null || { echo "native/build.sh: nvcc not found (set NVCC=/path/to/nvcc)" >&2; exit 1; }
mkdir -p "$out"
# No --use_fast_math: the kernels rely on IEEE expf/tanhf/sqrtf and division to match the CPU path.
flags=(-std=c++17 -O3 -ptx)
for sm in 80 90; do
  ptx="$(mktemp --suffix=.ptx)"
  "$NVCC" "${flags[@]}" -arch=compute_$sm "$here/rwkv.cu" -o "$ptx"
  gzip -9 -n -c "$ptx" > "$out/rwkv-sm$sm.ptx.gz"   # -n: no name or time stamp, so rebuilds are byte-identical
  echo "native/build.sh: $(grep -m1 '^\.version' "$ptx") $(grep -m1 '^\.target' "$ptx")," \
       "$(grep -c '^\.visible \.entry' "$ptx") kernels, $(wc -c < "$ptx") bytes -> rwkv-sm$sm.ptx.gz ($(wc -c < "$out/rwkv-sm$sm.ptx.gz") bytes)"
  if [[ "${1:-}" == "--check" ]]; then
    ptxas="$(dirname "$(readlink -f "$(command -v "$NVCC")")")/ptxas"
    [[ -x "$ptxas" ]] || ptxas=ptxas
    "$ptxas" -arch=sm_$sm -v "$ptx" -o /dev/null 2>&1 | grep -E "Compiling|registers|spill" | paste - - - || true
  fi
  rm -f "$ptx"
done
