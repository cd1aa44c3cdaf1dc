package dev.flinkrwkv.operator;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.backend.Backends;
import dev.flinkrwkv.backend.Device;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The operator end to end on the GPU backend, without a GPU: the emulated CUDA driver ({@code native/emu},
 * the kernels of {@code native/rwkv.cu} compiled for the host behind the driver API JCuda calls) runs a
 * scoring job with {@code device(CUDA)} over {@value #RECORDS} records of {@value #RECORD_TOKENS} tokens (360 in all) of two keys on the
 * tiny RWKV v4 model, with one injected failure. Every record's result is committed exactly once, and its
 * log-probabilities equal the CPU run's within {@value #TOLERANCE} (the tolerance docs/operator.md states).
 *
 * <p>The driver: system property {@code flinkrwkv.cuda.emu} or environment variable
 * {@code FLINKRWKV_CUDA_EMU}, the path of the {@code target/emu/libcuda.so.1} that {@code native/emu/build.sh}
 * writes ({@code .ci/run} builds it and sets the variable). It is loaded into this test's JVM (surefire forks
 * one per test class) before JCuda's library, whose {@code libcuda.so.1} it then stands for (build.sh gives it
 * that soname). Without it the test is skipped and says why:
 * <pre>
 * native/emu/build.sh
 * FLINKRWKV_CUDA_EMU=$PWD/target/emu/libcuda.so.1 mvn -pl flink-rwkv-operator test -Dtest=EmulatedGpuOperatorTest
 * </pre> The emulator runs one kernel at a time on one thread, so
 * the operator runs at parallelism 1.
 */
class EmulatedGpuOperatorTest {
    static final double TOLERANCE = 1e-3;
    static final int RECORDS = 6;
    /**
     * Tokens per record: above 16, where the matrix kernels switch from one warp per weight row (whose shuffles
     * make the emulator very slow) to 64-row shared-memory tiles; a record is one pass on the GPU, about 4 s of
     * CPU under the emulator for this model whatever its rows up to 64.
     */
    static final int RECORD_TOKENS = 60;
    static final int KEYS = 2;
    static final String MODEL = "tiny-rwkv-4v0-660K-FP32.bin";
    /** Records per batch and per checkpoint: few passes, as the emulator takes seconds for each. */
    static final int BATCH = 2;

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(new Configuration()).setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    static Path tmp;

    @BeforeAll
    static void loadTheEmulatedDriver() {
        Path driver = emulatedDriver();
        if (driver == null || !Files.isRegularFile(driver)) {
            String why = (driver == null ? "no emulated CUDA driver named (FLINKRWKV_CUDA_EMU)"
                    : "no emulated CUDA driver at " + driver) + "; build it with native/emu/build.sh: test skipped";
            System.out.println("EmulatedGpuOperatorTest: " + why);
            assumeTrue(false, why);
        }
        System.load(driver.toAbsolutePath().toString());
        assertTrue(Backends.cudaAvailable(), "the emulated driver at " + driver + " loaded, but: " + Backends.cudaStatus());
        System.out.println("EmulatedGpuOperatorTest: " + Backends.cudaStatus());
    }

    /** The driver named by {@code flinkrwkv.cuda.emu} or {@code FLINKRWKV_CUDA_EMU}, or null. */
    static Path emulatedDriver() {
        String given = System.getProperty("flinkrwkv.cuda.emu", System.getenv("FLINKRWKV_CUDA_EMU"));
        return given == null || given.isBlank() ? null : Path.of(given);
    }

    private static TestJob job(Device device) {
        TestJob j = new TestJob();
        j.keys = KEYS;
        j.count = RECORDS;
        j.parallelism = 1;
        j.checkpointMs = 100;
        j.config = RwkvOperatorConfig.<Long>builder().model(SharedData.tinyModel(MODEL).toString())
                .tokens(EmulatedGpuOperatorTest::tokens).tag(String::valueOf).emit(ScoreOutput.LOG_PROBS)
                .maxBatchSize(BATCH).maxBatchDelay(Duration.ofSeconds(30)).device(device).build();
        return j;
    }

    /** Record {@code i}: {@value #RECORD_TOKENS} bytes of {@link TestRecords#text} of consecutive records. */
    static int[] tokens(long i) {
        int[] t = new int[RECORD_TOKENS];
        int n = 0;
        for (long j = i * 7; n < t.length; j++) {
            for (int b : TestRecords.tokens(j)) {
                if (n < t.length) {
                    t[n++] = b;
                }
            }
        }
        return t;
    }

    @Test
    void aScoringJobOnTheGpuEqualsTheCpuRunWithinTheToleranceAndSurvivesAFailureExactlyOnce() throws Exception {
        List<String> cpu = job(Device.CPU).run(tmp.resolve("cpu"));
        TestJob gpu = job(Device.CUDA);
        gpu.perCheckpoint = BATCH; // checkpoints complete before the failure, and records are replayed after it
        gpu.failAt = new long[] {RECORDS / 2};
        List<String> out = gpu.run(tmp.resolve("gpu"));
        assertEquals(1, TestJob.FAILURES.get(), "failures injected");

        Map<Long, RwkvResult> expected = ResultLines.byTag(cpu);
        Map<Long, RwkvResult> got = ResultLines.byTag(out); // fails on a record committed twice
        assertEquals(RECORDS, expected.size(), "records of the CPU run");
        assertEquals(KEYS, expected.values().stream().map(RwkvResult::getKey).distinct().count(), "keys");
        assertEquals(expected.keySet(), got.keySet(), "records committed by the GPU run");
        double worst = 0;
        for (Map.Entry<Long, RwkvResult> e : expected.entrySet()) {
            RwkvResult c = e.getValue(), g = got.get(e.getKey());
            String what = "record " + e.getKey();
            assertEquals(c.getKey(), g.getKey(), what);
            assertEquals(c.getSeq(), g.getSeq(), what);
            assertEquals(c.getTokens(), g.getTokens(), what);
            float[] cl = c.getLogProbs(), gl = g.getLogProbs();
            assertEquals(cl.length, gl.length, what);
            for (int i = 0; i < cl.length; i++) {
                worst = Math.max(worst, Math.abs(cl[i] - gl[i]));
            }
            assertArrayEquals(cl, gl, (float) TOLERANCE, what + " log-probs");
            if (cl.length > 0) {
                assertEquals(c.getMeanBits(), g.getMeanBits(), TOLERANCE, what + " mean bits");
            }
        }
        System.out.printf("EmulatedGpuOperatorTest: %d records, largest log-prob difference GPU - CPU %.2e%n",
                RECORDS, worst);
    }
}
