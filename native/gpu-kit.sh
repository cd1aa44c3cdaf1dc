#!/usr/bin/env bash
# Assembles target/gpu-kit/: everything needed to run the GPU tests and the GPU benchmark on a machine
# that has an NVIDIA driver but maybe no Java, no Maven and no network (such as a rented GPU host):
#   jre/            a jlink'ed Java 17 runtime (40 MB; --no-jre leaves it out and uses the machine's java)
#   lib/            the operator's runtime and test jars (JCuda with its natives, JUnit's console launcher)
#   classes/, test-classes/   the operator's compiled classes and tests
#   data/           the test data (flink-rwkv-operator/src/test/data: tiny FP32 models, the HDFS log); the tests
#                   make the FP16 and quantized models from it into test-data-cache/; --no-models leaves it out
#   run-tests.sh    runs CudaBackendTest (and the PTX checks) with the console launcher
#   run-bench.sh    runs GpuBench on the model files given
# Usage (on the build machine): native/gpu-kit.sh [--no-models] [--no-jre]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kit="$root/target/gpu-kit"
models=1; jre=1
for a in "$@"; do
  case "$a" in
    --no-models) models=0 ;;
    --no-jre) jre=0 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
rm -rf "$kit"; mkdir -p "$kit/lib"
cd "$root"
mvn -q -pl flink-rwkv-operator -am test-compile
mvn -q -pl flink-rwkv-operator dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$kit/lib"
mvn -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.13.4 -DoutputDirectory="$kit/lib"
cp -r flink-rwkv-operator/target/classes "$kit/classes"
cp -r flink-rwkv-operator/target/test-classes "$kit/test-classes"
if [[ $jre == 1 ]]; then
  jlink --add-modules java.base,java.logging,java.management,java.xml,jdk.unsupported,jdk.incubator.vector \
        --strip-debug --no-man-pages --no-header-files --compress=2 --output "$kit/jre"
fi
if [[ $models == 1 ]]; then
  mkdir -p "$kit/data"
  cp -r flink-rwkv-operator/src/test/data/models flink-rwkv-operator/src/test/data/loghub "$kit/data/"
fi
cat > "$kit/env.sh" <<'EOS'
# sourced by the run scripts: JAVA (the kit's runtime, else the machine's java) and CP (the class path)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -x "$here/jre/bin/java" ]]; then JAVA="$here/jre/bin/java"; else JAVA=java; fi
CP="$here/classes:$here/test-classes"
for j in "$here"/lib/*.jar; do CP="$CP:$j"; done
JOPTS=(--add-modules jdk.incubator.vector -Xmx16g -Dflinkrwkv.testdata="${FLINKRWKV_TESTDATA:-$here/data}")
EOS
cat > "$kit/run-tests.sh" <<'EOS'
#!/usr/bin/env bash
# Runs the GPU tests: run-tests.sh [extra console-launcher options], e.g. -Dflinkrwkv.gpu.models=DIR for
# the realistic shapes. Reports go to $OUT (or ./reports).
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$JAVA" "${JOPTS[@]}" "$@" -jar "$here"/lib/junit-platform-console-standalone-*.jar execute \
  --class-path "$CP" --select-class dev.flinkrwkv.backend.cuda.PtxResourceTest \
  --select-class dev.flinkrwkv.backend.cuda.CudaBackendTest --select-class dev.flinkrwkv.backend.BackendsTest \
  --details=tree --disable-banner --reports-dir "${OUT:-reports}"
EOS
cat > "$kit/run-bench.sh" <<'EOS'
#!/usr/bin/env bash
# The GPU throughput table: run-bench.sh [--batches 1,64,512,4096] [--seconds 2] MODEL.bin...
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$JAVA" "${JOPTS[@]}" -cp "$CP" dev.flinkrwkv.backend.cuda.GpuBench "$@"
EOS
chmod +x "$kit/run-tests.sh" "$kit/run-bench.sh"
du -sh "$kit" "$kit"/* | sed "s|$root/||"
