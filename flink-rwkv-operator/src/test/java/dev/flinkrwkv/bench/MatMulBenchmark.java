package dev.flinkrwkv.bench;

import dev.flinkrwkv.math.MatMulKernel;
import dev.flinkrwkv.math.Matrix;
import dev.flinkrwkv.math.RandomWeights;
import dev.flinkrwkv.model.TensorType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The matrix kernels on {@value #LAYERS} layers' worth of 768-wide matrices (the 169M/0.1B shapes: per
 * layer 4 of 768 x 768, 3072 x 768 and 768 x 3072, 7.1M weights), taken in turn so that the weights come
 * from memory, not cache. One operation = every matrix of the set times a batch of inputs; the set's bytes
 * over the time is the achieved bandwidth, 2 x 57M x batch over it the FLOP rate.
 *
 * <p>Not run by the tests. Run it with:
 * <pre>
 * mvn -q -pl flink-rwkv-operator test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java --add-modules jdk.incubator.vector -cp flink-rwkv-operator/target/test-classes:flink-rwkv-operator/target/classes:$(cat flink-rwkv-operator/target/cp.txt) \
 *     org.openjdk.jmh.Main MatMulBenchmark
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class MatMulBenchmark {
    @Param({"FP32", "FP16", "Q8_0", "Q4_0", "Q5_1"})
    public String type;

    @Param({"1", "8", "64"})
    public int batch;

    @Param({"vector", "scalar"})
    public String kernel;

    /** Layers in the set: 8 x 28 MB in FP32, 8 x 7.5 MB in Q8_0, beyond the 32 MB last-level cache. */
    static final int LAYERS = 8;

    private Matrix[] layer;
    private float[] x;
    private float[] y;
    private MatMulKernel k;

    @Setup
    public void setUp() {
        k = kernel.equals("vector") ? MatMulKernel.vector() : MatMulKernel.scalar();
        if (k == null) {
            throw new IllegalStateException("the Vector API kernel is unavailable");
        }
        TensorType t = TensorType.parse(type);
        Random rnd = new Random(1);
        int c = 768, f = 4 * c;
        layer = new Matrix[6 * LAYERS];
        for (int i = 0; i < layer.length; i += 6) {
            for (int j = 0; j < 4; j++) {
                layer[i + j] = RandomWeights.matrix(t, c, c, rnd);
            }
            layer[i + 4] = RandomWeights.matrix(t, f, c, rnd);
            layer[i + 5] = RandomWeights.matrix(t, c, f, rnd);
        }
        x = RandomWeights.floats(batch * f, rnd);
        y = new float[batch * f];
    }

    @Benchmark
    public float layersOfProducts() {
        for (Matrix m : layer) {
            k.mul(m, x, 0, m.cols(), y, 0, m.rows(), batch, 0, m.rows());
        }
        return y[0];
    }
}
