#!/usr/bin/env bash
# flink-rwkv against rwkv.cpp on the same model files and thread counts, side by side in one interleaved run:
# each round runs flink-rwkv's `bench --batch 1` and rwkv.cpp (through bench/rwkv_cpp_bench.c, rwkv_eval one
# token at a time with logits) for every model and thread count, the two in alternating order, and the table
# gives the median of the rounds (and their range) for each.
#
#   bench/compare-rwkv-cpp.sh [--rwkv-cpp DIR] --model M.bin [--model M2.bin ...] [--threads 1,2] [--rounds 3]
#                             [--seconds 2] [--sequence LEN]
#
#   --rwkv-cpp DIR  a checkout of https://github.com/RWKV/rwkv.cpp with its ggml submodule; without it the
#                   repository is cloned into bench/build/rwkv.cpp. Its shared library is built (cmake, Release,
#                   -march=native) into bench/build/rwkv.cpp-build, never inside DIR.
#   --model         model files in rwkv.cpp's format (init-model, convert and quantize write them); repeatable
#   --threads       thread counts, comma-separated (default 1,2)
#   --rounds        interleaved rounds (default 3)
#   --seconds       timed seconds per measurement, after the warm-up (default 2)
#   --sequence LEN  also sequence mode: LEN tokens per call, the logits of the last token only on both sides
#                   (flink-rwkv: bench --seq-last; rwkv.cpp: rwkv_eval_sequence)
#
# Needs: the flink-rwkv jar (mvn -q -DskipTests package), git, cmake, a C and C++ compiler. The raw figures go
# to bench/build/compare-<time>.tsv. Other work on the machine moves the figures: the load average is printed.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="$here/bench/build"
rwkv_cpp=""
models=()
threads="1,2"
rounds=3
seconds=2
sequence=""
usage() {
  sed -n '7,8p' "$0" | sed '1s/^#  */usage: /; 2s/^#/    /' >&2
  exit 2
}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rwkv-cpp) rwkv_cpp="${2:?}"; shift 2 ;;
    --model) models+=("${2:?}"); shift 2 ;;
    --threads) threads="${2:?}"; shift 2 ;;
    --rounds) rounds="${2:?}"; shift 2 ;;
    --seconds) seconds="${2:?}"; shift 2 ;;
    --sequence) sequence="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare-rwkv-cpp: unknown argument $1" >&2; usage ;;
  esac
done
[[ ${#models[@]} -gt 0 ]] || { echo "compare-rwkv-cpp: --model is required" >&2; usage; }
for m in "${models[@]}"; do
  [[ -f "$m" ]] || { echo "compare-rwkv-cpp: no model file $m" >&2; exit 1; }
done
mkdir -p "$build"

# rwkv.cpp: clone when no checkout is given, then build its shared library out of its tree
if [[ -z "$rwkv_cpp" ]]; then
  rwkv_cpp="$build/rwkv.cpp"
  if [[ ! -d "$rwkv_cpp" ]]; then
    git clone --recursive https://github.com/RWKV/rwkv.cpp "$rwkv_cpp"
  fi
fi
rwkv_cpp="$(cd "$rwkv_cpp" && pwd)"
[[ -f "$rwkv_cpp/rwkv.h" && -f "$rwkv_cpp/ggml/CMakeLists.txt" ]] || {
  echo "compare-rwkv-cpp: $rwkv_cpp is not an rwkv.cpp checkout with its ggml submodule (git submodule update --init)" >&2
  exit 1
}
lib_dir="$build/rwkv.cpp-build"
jobs="$(nproc 2>/dev/null || echo 2)"
echo "building rwkv.cpp ($(git -C "$rwkv_cpp" rev-parse --short HEAD 2>/dev/null || echo unknown commit)) in $lib_dir" >&2
cmake -S "$rwkv_cpp" -B "$lib_dir" -DCMAKE_BUILD_TYPE=Release -DRWKV_BUILD_SHARED_LIBRARY=ON -DRWKV_STANDALONE=ON \
  -DRWKV_NATIVE=ON -DGGML_NATIVE=ON > "$lib_dir.log" 2>&1 || { cat "$lib_dir.log" >&2; exit 1; }
cmake --build "$lib_dir" --target rwkv -j "$jobs" >> "$lib_dir.log" 2>&1 || { tail -30 "$lib_dir.log" >&2; exit 1; }
driver="$build/rwkv_cpp_bench"
"${CC:-cc}" -O2 -I "$rwkv_cpp" "$here/bench/rwkv_cpp_bench.c" -L "$lib_dir" -lrwkv -Wl,-rpath,"$lib_dir" -o "$driver"

jar="${FLINK_RWKV_JAR:-$here/flink-jobs/target/flink-rwkv.jar}"
[[ -f "$jar" ]] || { echo "compare-rwkv-cpp: $jar not found; build it with: mvn -q -DskipTests package" >&2; exit 1; }
# through the launcher users run, so the JVM gets the same options (huge pages where the kernel gives them on
# request); FLINK_RWKV_JAR, JAVA and JAVA_OPTS pass through to it
java_cmd=(env FLINK_RWKV_JAR="$jar" FLINK_RWKV_RAW_STDERR=1 "$here/bin/flink-rwkv")

raw="$build/compare-$(date -u +%Y%m%dT%H%M%SZ).tsv"
printf 'round\tmodel\ttype\tthreads\tmode\tsize\tengine\ttokens_per_s\tlimit_tokens_per_s\tcpu_share_pct\n' > "$raw"
info=""
load_start="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
flink_rwkv() { # model threads -> rows on stdout: type mode size tokens/s limit CPU-share
  local out
  out="$("${java_cmd[@]}" bench --model "$1" --threads "$2" --batch 1 --seq none --seq-last "${sequence:-none}" --seconds "$seconds" --tsv \
    2> "$build/.bench-stderr")" || { echo "compare-rwkv-cpp: flink-rwkv bench failed on $1:" >&2; cat "$build/.bench-stderr" >&2; exit 1; }
  # "# model NAME: ..., FP16 (86), FP32 (62); kernel ...": the type of most tensors, FP32 where it is not alone
  local type limit
  type="$(sed -n 's/^# model [^;]*vocabulary [0-9]*, \([^;]*\);.*/\1/p' <<< "$out" | tr ',' '\n' | sed 's/ *(.*//; s/^ *//' \
    | grep -v "^FP32$" | head -1 || true)"
  limit="$(sed -n 's/.*single-stream limit \([0-9.]*\) tokens\/s.*/\1/p' <<< "$out")"
  [[ -n "$info" ]] || info="$(sed -n 's/^# model .*; kernel \([^,]*\),.*; CPU \(.*\)/CPU \2; flink-rwkv kernel \1/p' <<< "$out")"
  grep -E '^(batch|seq-last)\s' <<< "$out" | awk -v type="${type:-FP32}" -v limit="$limit" -F'\t' '{print type "\t" $1 "\t" $2 "\t" $4 "\t" limit "\t" $9}'
  grep '^# memory' <<< "$out" | sed 's/^# /  /' >&2
}
rwkv_cpp_run() { # model threads -> rows: mode size tokens/s CPU-share
  "$driver" "$1" --threads "$2" --seconds "$seconds" | awk -F'\t' '{print $1 "\t" $2 "\t" $4 "\t" $5}'
  if [[ -n "$sequence" ]]; then
    "$driver" "$1" --threads "$2" --seconds "$seconds" --sequence "$sequence" | awk -F'\t' '{print $1 "\t" $2 "\t" $4 "\t" $5}'
  fi
}
IFS=',' read -r -a thread_list <<< "$threads"
for ((round = 1; round <= rounds; round++)); do
  for m in "${models[@]}"; do
    for t in "${thread_list[@]}"; do
      echo "round $round/$rounds: $(basename "$m"), $t thread(s), load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null)" >&2
      # alternate which engine runs first, so that a drift in the machine's load does not favour one
      for engine in $( ((round % 2)) && echo "flink-rwkv rwkv.cpp" || echo "rwkv.cpp flink-rwkv"); do
        if [[ "$engine" == flink-rwkv ]]; then
          flink_rwkv "$m" "$t" > "$build/.rows"
          while IFS=$'\t' read -r type mode size tps limit share; do
            printf '%s\t%s\t%s\t%s\t%s\t%s\tflink-rwkv\t%s\t%s\t%s\n' "$round" "$m" "$type" "$t" "$mode" "$size" "$tps" "$limit" "$share" >> "$raw"
          done < "$build/.rows"
        else
          rwkv_cpp_run "$m" "$t" > "$build/.rows"
          while IFS=$'\t' read -r mode size tps share; do
            printf '%s\t%s\t-\t%s\t%s\t%s\trwkv.cpp\t%s\t-\t%s\n' "$round" "$m" "$t" "$mode" "$size" "$tps" "$share" >> "$raw"
          done < "$build/.rows"
        fi
      done
    done
  done
done
rm -f "$build/.rows" "$build/.bench-stderr"

echo
echo "$info; rwkv.cpp $(git -C "$rwkv_cpp" rev-parse --short HEAD 2>/dev/null || echo '?') (-march=native); $jobs cores"
echo "load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown); $rounds rounds, median (min-max);" \
  "limit: flink-rwkv bench's read probe over the weight bytes per token; CPU share: flink-rwkv / rwkv.cpp," \
  "process CPU time over wall time x threads (below 100% the cores were shared with other work)"
# one row per model, threads and mode: medians of the rounds and their range, the ratio of the medians
awk -F'\t' '
  function median(list,   n, a, i, j, x) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    lo = a[1]; hi = a[n]
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  NR > 1 {
    key = $2 SUBSEP $4 SUBSEP $5 SUBSEP $6
    if (!(key in seen)) { seen[key] = 1; order[++keys] = key }
    vals[key, $7] = vals[key, $7] " " $8
    share[key, $7] = share[key, $7] " " $10
    if ($7 == "flink-rwkv") { type[key] = $3; limit[key] = limit[key] " " $9 }
  }
  END {
    printf "| %-5s | %-7s | %-12s | %-24s | %-24s | %-8s | %-21s | %-11s |\n", "type", "threads", "mode", "flink-rwkv tokens/s", "rwkv.cpp tokens/s", "ratio", "limit (flink-rwkv at)", "CPU share"
    print "|-------|---------|--------------|--------------------------|--------------------------|----------|-----------------------|-------------|"
    for (k = 1; k <= keys; k++) {
      split(order[k], f, SUBSEP)
      f_med = median(vals[order[k], "flink-rwkv"]); f_lo = lo; f_hi = hi
      c_med = median(vals[order[k], "rwkv.cpp"]); c_lo = lo; c_hi = hi
      l_med = median(limit[order[k]])
      f_share = median(share[order[k], "flink-rwkv"]); c_share = median(share[order[k], "rwkv.cpp"])
      printf "| %-5s | %-7s | %-12s | %-24s | %-24s | %-8s | %-21s | %-11s |\n", type[order[k]], f[2], f[3] " " f[4],
        sprintf("%.1f (%.1f-%.1f)", f_med, f_lo, f_hi), sprintf("%.1f (%.1f-%.1f)", c_med, c_lo, c_hi),
        sprintf("%.2f", c_med > 0 ? f_med / c_med : 0), sprintf("%.1f (%.0f%%)", l_med, l_med > 0 ? 100 * f_med / l_med : 0),
        sprintf("%.0f%% / %.0f%%", f_share, c_share)
    }
  }' "$raw"
echo "raw figures: $raw"
