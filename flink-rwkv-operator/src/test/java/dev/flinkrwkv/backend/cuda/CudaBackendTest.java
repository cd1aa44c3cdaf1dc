package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.backend.Backend;
import dev.flinkrwkv.backend.Backends;
import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The GPU backend against the CPU evaluator: per-token log-probs within 1e-3 over 1024 tokens of HDFS log
 * for every tiny model (FP32, FP16 and the quantized ones, which the GPU holds dequantized to FP32), in
 * batches of B = 1, 7 and 256 keys (each key reading the log from its own offset), in sequence mode, and
 * with resident slots. Realistic shapes (e.g. a 169M v4, a 0.1B v7 made by init-model) when the system
 * property {@code flinkrwkv.gpu.models} names a directory of model files.
 *
 * <p>Skipped, with the reason printed, where there is no CUDA driver or device (CI): {@link RequiresGpu}.
 */
@ExtendWith(RequiresGpu.class)
class CudaBackendTest {
    static final double TOLERANCE = 1e-3;
    /** Tokens per key (system property flinkrwkv.gpu.tokens; fewer for the emulated driver, which is slow). */
    static final int TOKENS = Integer.getInteger("flinkrwkv.gpu.tokens", 1024);
    /** Batch sizes (flinkrwkv.gpu.batches). */
    static final int[] BATCHES = Arrays.stream(System.getProperty("flinkrwkv.gpu.batches", "1,7,256").split(","))
            .mapToInt(Integer::parseInt).toArray();
    static byte[] text;

    @BeforeAll
    static void readText() throws IOException {
        System.out.println("GPU: " + Backends.cudaStatus());
        text = Files.readAllBytes(SharedData.loghub().resolve("HDFS_2k.log"));
    }

    static Stream<Arguments> modelsAndBatches() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (Path m : models()) {
            for (int b : BATCHES) {
                out.add(Arguments.of(m, b));
            }
        }
        return out.stream();
    }

    /** The tiny models whose file name matches the system property flinkrwkv.gpu.only (a regex; default all). */
    static List<Path> models() throws IOException {
        String only = System.getProperty("flinkrwkv.gpu.only", ".*");
        return SharedData.allModels().stream().filter(p -> p.getFileName().toString().matches(only)).toList();
    }

    /** Token t of key b: the log read from offset 131*b. */
    static int token(int b, int t) {
        return text[(131 * b + t) % text.length] & 0xFF;
    }

    /** Log-probs of key b's next tokens (TOKENS - 1 of them) and its final state, on the CPU, one key alone. */
    static float[] cpuLogProbs(RwkvModel m, int b, int steps, RwkvState finalState) {
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState s = m.initialState();
        float[] logits = new float[m.vocab()];
        float[] lp = new float[steps - 1];
        for (int t = 0; t < steps; t++) {
            if (t > 0) {
                lp[t - 1] = (float) LogProbs.of(logits, 0, m.vocab(), token(b, t));
            }
            ev.step(s, token(b, t), logits);
        }
        finalState.copyFrom(s);
        return lp;
    }

    /** Keys the CPU checks: all for small batches, a spread of 9 for big ones (keys are independent). */
    static int[] checkedKeys(int batch) {
        if (batch <= 8) {
            return IntStream.range(0, batch).toArray();
        }
        return IntStream.concat(IntStream.range(0, 8).map(i -> i * (batch / 8)), IntStream.of(batch - 1))
                .distinct().toArray();
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    static double maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    /**
     * Steps {@code batch} keys through {@code steps} tokens on the GPU (host states for small batches,
     * resident slots for big ones) and compares the checked keys with the CPU.
     */
    static void compareBatched(RwkvModel m, int batch, int steps) {
        int v = m.vocab();
        int[] keys = checkedKeys(batch);
        float[][] gpuLp = new float[batch][steps - 1];
        RwkvState[] states = new RwkvState[batch];
        try (CudaBackend gpu = new CudaBackend(m)) {
            boolean resident = batch > 8;
            for (int b = 0; b < batch; b++) {
                states[b] = m.initialState();
            }
            int[] slots = IntStream.range(0, batch).toArray();
            if (resident) {
                gpu.resizeSlots(batch);
            }
            int[] tokens = new int[batch];
            float[] logits = new float[batch * v];
            for (int t = 0; t < steps; t++) {
                for (int b = 0; b < batch; b++) {
                    tokens[b] = token(b, t);
                    if (t > 0) {
                        gpuLp[b][t - 1] = (float) LogProbs.of(logits, b * v, v, tokens[b]);
                    }
                }
                if (resident) {
                    gpu.stepSlots(slots, tokens, batch, logits);
                } else {
                    gpu.stepBatch(states, tokens, batch, logits);
                }
            }
            if (resident) {
                for (int b : keys) {
                    gpu.readSlot(b, states[b]);
                }
            }
        }
        RwkvState[] cpuStates = new RwkvState[batch];
        float[][] cpuLp = new float[batch][];
        Arrays.stream(keys).parallel().forEach(b -> {
            cpuStates[b] = m.initialState();
            cpuLp[b] = cpuLogProbs(m, b, steps, cpuStates[b]);
        });
        double worstLp = 0, worstState = 0;
        for (int b : keys) {
            worstLp = Math.max(worstLp, maxDiff(cpuLp[b], gpuLp[b]));
            worstState = Math.max(worstState, maxDiff(cpuStates[b].data(), states[b].data()) / maxAbs(cpuStates[b].data()));
        }
        System.out.printf("%s B=%d: log-probs max|diff| %.3g, state (relative) %.3g over %d keys x %d tokens%n",
                m.file().path().getFileName(), batch, worstLp, worstState, keys.length, steps);
        assertTrue(worstLp <= TOLERANCE, "log-probs max |diff| " + worstLp);
        assertTrue(worstState <= TOLERANCE, "state max |diff| relative to its largest entry " + worstState);
    }

    @ParameterizedTest(name = "{0} B={1}")
    @MethodSource("modelsAndBatches")
    void batchedLogProbsMatchTheCpu(Path model, int batch) throws IOException {
        compareBatched(RwkvModel.load(model), batch, TOKENS);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void sequenceModeMatchesTheCpu(Path model) throws IOException {
        RwkvModel m = RwkvModel.load(model);
        int v = m.vocab();
        int[] tokens = IntStream.range(0, TOKENS).map(t -> token(3, t)).toArray();
        RwkvState want = m.initialState();
        float[] cpuLp = cpuLogProbs(m, 3, TOKENS, want);
        float[] gpuLp = new float[TOKENS - 1];
        RwkvState s = m.initialState();
        float[] last = new float[v];
        try (CudaBackend gpu = new CudaBackend(m)) {
            // chunks of a fifth (every logit) and one last chunk with the last logits only: the state carries over
            int chunk = Math.max(1, TOKENS / 5);
            int checked = (TOKENS - 1) / chunk * chunk;
            float[] logits = new float[chunk * v];
            int t = 0;
            for (; t + chunk <= checked; t += chunk) {
                gpu.stepSequence(s, tokens, t, chunk, logits);
                for (int i = 0; i < chunk; i++) {
                    if (t + i + 1 < TOKENS) {
                        gpuLp[t + i] = (float) LogProbs.of(logits, i * v, v, tokens[t + i + 1]);
                    }
                }
            }
            gpu.stepSequence(s, tokens, t, TOKENS - t, last);
        }
        int checked = (TOKENS - 1) / Math.max(1, TOKENS / 5) * Math.max(1, TOKENS / 5);
        float[] cpuPrefix = Arrays.copyOf(cpuLp, checked);
        float[] gpuPrefix = Arrays.copyOf(gpuLp, checked);
        double dLp = maxDiff(cpuPrefix, gpuPrefix);
        double dState = maxDiff(want.data(), s.data()) / maxAbs(want.data());
        System.out.printf("%s sequence: log-probs max|diff| %.3g, state (relative) %.3g%n", model.getFileName(), dLp, dState);
        assertTrue(dLp <= TOLERANCE, "log-probs max |diff| " + dLp);
        assertTrue(dState <= TOLERANCE, "state max |diff| relative " + dState);
    }

    @Test
    void residentSlotsEqualHostStatesBitForBit() throws IOException {
        RwkvModel m = RwkvModel.load(SharedData.tinyModel("tiny-rwkv-7v0-834K-FP16.bin"));
        int batch = 5, v = m.vocab();
        try (CudaBackend gpu = new CudaBackend(m)) {
            RwkvState[] states = new RwkvState[batch];
            gpu.resizeSlots(batch + 2);
            int[] slots = {6, 0, 3, 2, 5};
            int[] tokens = new int[batch];
            float[] a = new float[batch * v], b = new float[batch * v];
            for (int i = 0; i < batch; i++) {
                states[i] = m.initialState();
            }
            for (int t = 0; t < 20; t++) {
                for (int i = 0; i < batch; i++) {
                    tokens[i] = token(i, t);
                }
                gpu.stepBatch(states, tokens, batch, a);
                gpu.stepSlots(slots, tokens, batch, b);
                assertArrayEquals(a, b, "logits at step " + t);
            }
            RwkvState got = m.initialState();
            for (int i = 0; i < batch; i++) {
                gpu.readSlot(slots[i], got);
                assertEquals(states[i], got, "slot " + slots[i]);
            }
            gpu.readSlot(1, got);
            assertEquals(m.initialState(), got, "an unused slot keeps the initial state");
            gpu.writeSlot(1, states[0]);
            gpu.resizeSlots(3);
            gpu.readSlot(1, got);
            assertEquals(states[0], got, "shrinking keeps the low slots");
        }
    }

    @Test
    void sessionsShareOneUploadOfTheWeights() throws IOException {
        RwkvModel m = RwkvModel.load(SharedData.tinyModel("tiny-rwkv-4v0-660K-FP32.bin"));
        try (CudaBackend a = new CudaBackend(m); CudaBackend b = new CudaBackend(RwkvModel.load(m.file().path()))) {
            assertSame(a.gpuModel(), b.gpuModel());
        }
    }

    @Test
    void autoPicksTheGpu() throws IOException {
        RwkvModel m = RwkvModel.load(SharedData.tinyModel("tiny-rwkv-6v0-1m-FP16.bin"));
        try (Backend b = Backends.open("auto", m)) {
            assertTrue(b instanceof CudaBackend, b.name());
        }
    }

    static List<Path> realisticModels() throws IOException {
        String dir = System.getProperty("flinkrwkv.gpu.models");
        if (dir == null) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(Path.of(dir))) {
            return s.filter(p -> p.toString().endsWith(".bin")).sorted().toList();
        }
    }

    @Test
    void realisticShapesMatchTheCpu() throws IOException {
        List<Path> models = realisticModels();
        assumeTrue(!models.isEmpty(), "set -Dflinkrwkv.gpu.models=DIR (model files made by init-model) to run");
        for (Path p : models) {
            // the CPU is slow at these sizes: 7 keys, 48 tokens
            compareBatched(RwkvModel.load(p), 7, 48);
        }
    }
}
