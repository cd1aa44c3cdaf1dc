package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.math.MatMulKernel;
import dev.flinkrwkv.model.TensorType;
import dev.flinkrwkv.state.StatePrecision;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A ragged batch (keys with their own token counts) gives every key, bit for bit, what single steps give it
 * alone: log-probs, the logits asked for, the state, with the state rounded at record ends. Whatever the
 * batch's composition (keys alone, all together, in another order, in several batches), the row cap (so a
 * key cut across passes) and the thread count, with the Vector API kernel and the plain-Java one.
 */
@Timeout(600)
class RaggedBatchTest {
    /** One key's part of a test: its start state, the tokens it feeds, and per token what is asked. */
    static final class KeyRun {
        final RwkvState start;
        final int[] tokens;
        final int[] targets;
        final boolean[] wantLogits;
        final boolean[] recordEnd;
        // expected, from single steps
        float[] logProbs;
        float[][] logits;
        float[] state;

        KeyRun(RwkvState start, int[] tokens, int[] targets, boolean[] wantLogits, boolean[] recordEnd) {
            this.start = start;
            this.tokens = tokens;
            this.targets = targets;
            this.wantLogits = wantLogits;
            this.recordEnd = recordEnd;
        }
    }

    static List<Path> models() throws IOException {
        return BatchAndSequenceTest.sequenceModels();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void oneLongKey(Path model) throws IOException {
        RwkvModel m = RwkvModel.load(model);
        Random rnd = new Random(SharedData.stem(model).hashCode());
        List<KeyRun> keys = List.of(keyRun(m, rnd, 512, 0.02, 0.05));
        List<Config> configs = new ArrayList<>(CONFIGS);
        configs.add(new Config(true, 1, 1, false)); // one row per pass
        check(m, keys, null, configs, false);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void manyKeysOfAnyLength(Path model) throws IOException {
        RwkvModel m = RwkvModel.load(model);
        Random rnd = new Random(SharedData.stem(model).hashCode() + 1);
        List<KeyRun> keys = new ArrayList<>();
        for (int k = 0; k < 64; k++) {
            keys.add(keyRun(m, rnd, 1 + rnd.nextInt(300), 0.05, 0.1));
        }
        check(m, keys, null, CONFIGS, true);
    }

    /**
     * Records of 1..40 tokens whose keys are Zipf-distributed (a few keys hold most records), grouped per key
     * as the operator groups them, with 16-bit state storage: the state is rounded after every record.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void zipfKeysWithRecordEndsRounded(Path model) throws IOException {
        RwkvModel m = RwkvModel.load(model);
        Random rnd = new Random(SharedData.stem(model).hashCode() + 2);
        int keyCount = 24;
        double[] cumulative = new double[keyCount];
        double sum = 0;
        for (int k = 0; k < keyCount; k++) {
            sum += 1 / Math.pow(k + 1, 1.1);
            cumulative[k] = sum;
        }
        List<List<Integer>> recordLengths = new ArrayList<>();
        for (int k = 0; k < keyCount; k++) {
            recordLengths.add(new ArrayList<>());
        }
        for (int r = 0; r < 160; r++) {
            double u = rnd.nextDouble() * sum;
            int k = 0;
            while (cumulative[k] < u) {
                k++;
            }
            recordLengths.get(k).add(1 + rnd.nextInt(40));
        }
        List<KeyRun> keys = new ArrayList<>();
        for (List<Integer> lengths : recordLengths) {
            int n = lengths.stream().mapToInt(Integer::intValue).sum();
            if (n == 0) {
                continue;
            }
            KeyRun run = keyRun(m, rnd, n, 0.05, 0);
            int at = 0;
            for (int len : lengths) {
                at += len;
                run.recordEnd[at - 1] = true;
            }
            keys.add(run);
        }
        check(m, keys, StatePrecision.BFLOAT16::roundInPlace, CONFIGS, false);
    }

    @Test
    void argumentsAreCheckedBeforeAnyStateChanges() throws IOException {
        RwkvModel m = RwkvModel.load(models().get(0));
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState a = m.initialState(), b = m.initialState();
        RaggedBatch batch = new RaggedBatch();
        batch.addKey(a);
        batch.addRow(1, 2);
        batch.addKey(b);
        batch.addRow(m.vocab(), RaggedBatch.NO_TARGET);
        assertThrows(IllegalArgumentException.class, () -> ev.step(batch));
        batch.clear();
        batch.addKey(a);
        batch.addRow(1, m.vocab());
        assertThrows(IllegalArgumentException.class, () -> ev.step(batch));
        batch.clear();
        batch.addKey(a);
        batch.addRow(1, 2);
        batch.addKey(RwkvState.wrap(new float[3]));
        batch.addRow(1, 2);
        assertThrows(IllegalArgumentException.class, () -> ev.step(batch));
        assertArrayEquals(m.initialState().data(), a.data(), "a refused batch leaves the states alone");
        assertThrows(IllegalStateException.class, () -> new RaggedBatch().addRow(1, 2));
        assertThrows(IllegalArgumentException.class, () -> m.newEvaluator(1, 0));
    }

    /** A key of {@code n} random tokens from a state advanced by a short random history. */
    static KeyRun keyRun(RwkvModel m, Random rnd, int n, double logitsShare, double noTargetShare) {
        RwkvState start = m.initialState();
        RwkvEvaluator ev = m.newEvaluator();
        for (int i = rnd.nextInt(4); i > 0; i--) {
            ev.step(start, rnd.nextInt(m.vocab()), null);
        }
        int[] tokens = rnd.ints(n, 0, m.vocab()).toArray();
        int[] targets = new int[n];
        boolean[] logits = new boolean[n];
        for (int i = 0; i < n; i++) {
            targets[i] = rnd.nextDouble() < noTargetShare ? RaggedBatch.NO_TARGET
                    : i + 1 < n ? tokens[i + 1] : rnd.nextInt(m.vocab());
            logits[i] = rnd.nextDouble() < logitsShare || i == n - 1;
        }
        return new KeyRun(start, tokens, targets, logits, new boolean[n]);
    }

    /**
     * A run of the ragged batch: kernel (vector or plain Java), threads, row cap, and whether the keys go
     * together in one batch or shuffled into three.
     */
    record Config(boolean vector, int threads, int cap, boolean shuffled) {}

    /** Every kernel, thread count, cap (a key cut across passes at 7, 64) and composition at least once. */
    static final List<Config> CONFIGS = List.of(
            new Config(true, 1, RwkvEvaluator.DEFAULT_MAX_BATCH_TOKENS, false),
            new Config(true, 2, 64, true),
            new Config(true, 2, 7, false),
            new Config(false, 1, 64, true),
            new Config(false, 2, RwkvEvaluator.DEFAULT_MAX_BATCH_TOKENS, false));

    /**
     * Expected values by single steps (or, {@code alone}, by each key alone in a ragged batch of its own: the
     * many-keys case, whose ~10,000 single steps would take minutes), then the ragged batch in each
     * configuration.
     */
    static void check(RwkvModel m, List<KeyRun> keys, RaggedBatch.Rounding rounding, List<Config> configs,
                      boolean alone) {
        MatMulKernel before = MatMulKernel.get();
        try {
            // the plain-Java kernel (slow: its expected values are single steps too) on the float32 models
            boolean scalarToo = m.storageTypes().keySet().stream().allMatch(t -> t == TensorType.FP32)
                    || MatMulKernel.vector() == null;
            for (boolean vector : new boolean[] {false, true}) {
                MatMulKernel kernel = vector ? MatMulKernel.vector() : MatMulKernel.scalar();
                if (kernel == null || !vector && !scalarToo) {
                    continue; // without the Vector API the plain-Java kernel is the product's kernel
                }
                MatMulKernel.set(kernel);
                if (alone) {
                    expectAlone(m, keys, rounding);
                } else {
                    expect(m, keys, rounding);
                }
                for (Config cfg : configs) {
                    if (cfg.vector() != vector) {
                        continue;
                    }
                    try (RwkvEvaluator ev = m.newEvaluator(cfg.threads(), cfg.cap())) {
                        String what = kernel.name() + ", " + cfg.threads() + " thread(s), cap " + cfg.cap();
                        if (cfg.shuffled()) {
                            runAndCompare(m, ev, keys, rounding, shuffledGroups(keys.size(), new Random(cfg.cap())),
                                    what + ", shuffled in three batches");
                        } else {
                            runAndCompare(m, ev, keys, rounding, List.of(all(keys.size())), what + ", together");
                        }
                    }
                }
            }
        } finally {
            MatMulKernel.set(before);
        }
    }

    private static List<Integer> all(int n) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        return order;
    }

    private static List<List<Integer>> shuffledGroups(int n, Random rnd) {
        List<Integer> order = all(n);
        Collections.shuffle(order, rnd);
        List<List<Integer>> groups = new ArrayList<>();
        for (int g = 0; g < 3; g++) {
            List<Integer> part = order.subList(n * g / 3, n * (g + 1) / 3);
            if (!part.isEmpty()) {
                groups.add(part);
            }
        }
        return groups;
    }

    private static void expect(RwkvModel m, List<KeyRun> keys, RaggedBatch.Rounding rounding) {
        RwkvEvaluator ev = m.newEvaluator();
        int vocab = m.vocab();
        float[] logits = new float[vocab];
        for (KeyRun k : keys) {
            RwkvState s = k.start.copy();
            int n = k.tokens.length;
            k.logProbs = new float[n];
            k.logits = new float[n][];
            for (int i = 0; i < n; i++) {
                ev.step(s, k.tokens[i], logits);
                k.logProbs[i] = k.targets[i] == RaggedBatch.NO_TARGET ? Float.NaN
                        : (float) LogProbs.of(logits, 0, vocab, k.targets[i]);
                if (k.wantLogits[i]) {
                    k.logits[i] = logits.clone();
                }
                if (k.recordEnd[i] && rounding != null) {
                    rounding.round(s.data(), 0, s.size());
                }
            }
            k.state = s.data().clone();
        }
    }

    /** Each key in a batch of its own, one pass (the default cap) on one thread. */
    private static void expectAlone(RwkvModel m, List<KeyRun> keys, RaggedBatch.Rounding rounding) {
        int vocab = m.vocab();
        RaggedBatch batch = new RaggedBatch().rounding(rounding);
        try (RwkvEvaluator ev = m.newEvaluator(1, 512)) {
            for (KeyRun k : keys) {
                RwkvState s = k.start.copy();
                int n = k.tokens.length;
                int[] slots = fill(batch.clear(), s, k);
                ev.step(batch);
                k.logProbs = new float[n];
                k.logits = new float[n][];
                for (int i = 0; i < n; i++) {
                    k.logProbs[i] = (float) batch.logProb(i);
                    if (k.wantLogits[i]) {
                        k.logits[i] = Arrays.copyOfRange(batch.logits(), slots[i] * vocab, (slots[i] + 1) * vocab);
                    }
                }
                k.state = s.data().clone();
            }
        }
    }

    /** Adds the key's rows to the batch; returns each row's logits slot (-1: none). */
    private static int[] fill(RaggedBatch batch, RwkvState state, KeyRun run) {
        batch.addKey(state);
        int[] slots = new int[run.tokens.length];
        for (int i = 0; i < run.tokens.length; i++) {
            batch.addRow(run.tokens[i], run.targets[i]);
            slots[i] = run.wantLogits[i] ? batch.wantLogits() : -1;
            if (run.recordEnd[i]) {
                batch.endRecord();
            }
        }
        return slots;
    }

    private static void runAndCompare(RwkvModel m, RwkvEvaluator ev, List<KeyRun> keys, RaggedBatch.Rounding rounding,
                                      List<List<Integer>> groups, String what) {
        int vocab = m.vocab();
        RaggedBatch batch = new RaggedBatch().rounding(rounding);
        for (List<Integer> group : groups) {
            batch.clear();
            RwkvState[] states = new RwkvState[keys.size()];
            int[][] slots = new int[keys.size()][];
            int[] firstRow = new int[keys.size()];
            for (int k : group) {
                KeyRun run = keys.get(k);
                states[k] = run.start.copy();
                firstRow[k] = batch.rows();
                slots[k] = fill(batch, states[k], run);
            }
            ev.step(batch);
            for (int k : group) {
                KeyRun run = keys.get(k);
                String key = what + ", key " + k + " of " + run.tokens.length + " tokens";
                float[] lp = new float[run.tokens.length];
                for (int i = 0; i < lp.length; i++) {
                    lp[i] = (float) batch.logProb(firstRow[k] + i);
                }
                assertArrayEquals(run.logProbs, lp, key + ": log-probs");
                for (int i = 0; i < lp.length; i++) {
                    if (run.wantLogits[i]) {
                        float[] got = Arrays.copyOfRange(batch.logits(), slots[k][i] * vocab, (slots[k][i] + 1) * vocab);
                        assertArrayEquals(run.logits[i], got, key + ": logits after token " + i);
                    }
                }
                assertArrayEquals(run.state, states[k].data(), key + ": state");
            }
        }
        assertEquals(groups.get(groups.size() - 1).size(), batch.keys());
    }
}
