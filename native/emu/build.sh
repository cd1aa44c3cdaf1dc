#!/usr/bin/env bash
# Builds the stand-in driver target/emu/libcuda.so.1 (see fake_libcuda.cpp): the kernels of native/rwkv.cu
# compiled for the host, behind the CUDA driver API calls JCuda makes. Needs g++ and the jcuda-natives jar
# in the local Maven repository (for the list of driver functions JCuda links, each given a stub).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
out="$root/target/emu"
mkdir -p "$out"
jar="$(ls ~/.m2/repository/org/jcuda/jcuda-natives/12.6.0/jcuda-natives-12.6.0-linux-x86_64.jar)"
tmp="$(mktemp -d)"
(cd "$tmp" && unzip -q -o "$jar" 'lib/libJCudaDriver-*.so')
implemented="$(grep -oE '^CUresult (cu[A-Za-z0-9_]+)\(' "$here/fake_libcuda.cpp" | sed -E 's/CUresult (.*)\(/\1/' | sort -u)"
nm -D --undefined-only "$tmp"/lib/libJCudaDriver-*.so | awk '$2 ~ /^cu/ {print $2}' | sort -u \
  | comm -23 - <(echo "$implemented") \
  | awk '{print "CUresult " $1 "() { return 801; } // CUDA_ERROR_NOT_SUPPORTED"}' > "$out/stubs.inc"
g++ -std=c++17 -O2 -g -fPIC -shared -Wl,-soname,libcuda.so.1 -fno-fast-math -ffp-contract=off -fno-strict-aliasing -I"$out" -I"$here" \
    -o "$out/libcuda.so.1" "$here/fake_libcuda.cpp"
rm -rf "$tmp"
echo "native/emu/build.sh: $out/libcuda.so.1 ($(wc -l < "$out/stubs.inc") stubs)"
