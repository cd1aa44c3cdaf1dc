package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fast paths give what single steps give: a batch of B keys equals B single steps, a sequence of T
 * tokens equals T single steps (log-probs, last logits and state), several threads equal one.
 */
class BatchAndSequenceTest {
    static final double TOLERANCE = 1e-5;

    static List<Path> models() throws IOException {
        return SharedData.allModels();
    }

    /** Every version in the float types and the most used quantized one. */
    static List<Path> sequenceModels() throws IOException {
        return SharedData.allModels().stream()
                .filter(p -> SharedData.stem(p).matches(".*-(FP32|FP16|Q8_0)"))
                .collect(Collectors.toList());
    }

    /** A state advanced by a random history of 0 to 4 tokens, so that batch entries differ. */
    static RwkvState randomState(RwkvModel m, RwkvEvaluator ev, Random rnd) {
        RwkvState s = m.initialState();
        for (int i = rnd.nextInt(5); i > 0; i--) {
            ev.step(s, rnd.nextInt(m.vocab()), null);
        }
        return s;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void aBatchEqualsSingleSteps(Path model) throws IOException {
        RwkvModel m = RwkvModel.load(model);
        RwkvEvaluator ev = m.newEvaluator();
        int vocab = m.vocab();
        Random rnd = new Random(SharedData.stem(model).hashCode());
        for (int batch : new int[] {1, 3, 64}) {
            RwkvState[] states = new RwkvState[batch];
            RwkvState[] singles = new RwkvState[batch];
            int[] tokens = new int[batch];
            for (int b = 0; b < batch; b++) {
                states[b] = randomState(m, ev, rnd);
                singles[b] = states[b].copy();
                tokens[b] = rnd.nextInt(vocab);
            }
            float[] logits = new float[batch * vocab];
            for (int round = 0; round < 2; round++) { // twice: the second from states the batch advanced
                ev.stepBatch(states, tokens, batch, logits);
                float[] single = new float[vocab];
                for (int b = 0; b < batch; b++) {
                    ev.step(singles[b], tokens[b], single);
                    assertClose(single, 0, logits, b * vocab, vocab, "logits, batch " + batch + " entry " + b);
                    assertClose(singles[b].data(), 0, states[b].data(), 0, m.stateSize(),
                            "state, batch " + batch + " entry " + b);
                    tokens[b] = rnd.nextInt(vocab);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sequenceModels")
    void aSequenceEqualsSingleSteps(Path model) throws IOException {
        RwkvModel m = RwkvModel.load(model);
        RwkvEvaluator ev = m.newEvaluator();
        int vocab = m.vocab();
        Random rnd = new Random(SharedData.stem(model).hashCode());
        for (int len : new int[] {1, 17, 512}) {
            RwkvState start = randomState(m, ev, rnd);
            int off = 3;
            int[] tokens = new int[off + len + 2];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = rnd.nextInt(vocab);
            }
            // T single steps
            RwkvState single = start.copy();
            float[] logits = new float[vocab];
            float[] expectedLp = new float[len - 1];
            for (int i = 0; i < len; i++) {
                if (i > 0) {
                    expectedLp[i - 1] = (float) LogProbs.of(logits, 0, vocab, tokens[off + i]);
                }
                ev.step(single, tokens[off + i], logits);
            }
            // one sequence call, with both outputs, then with neither (state only)
            RwkvState seq = start.copy();
            float[] lp = new float[len - 1];
            float[] last = new float[vocab];
            ev.stepSequence(seq, tokens, off, len, lp, last);
            assertClose(expectedLp, 0, lp, 0, len - 1, "log-probs, length " + len);
            assertClose(logits, 0, last, 0, vocab, "last logits, length " + len);
            assertClose(single.data(), 0, seq.data(), 0, m.stateSize(), "state, length " + len);
            RwkvState stateOnly = start.copy();
            ev.stepSequence(stateOnly, tokens, off, len, null, null);
            assertArrayEquals(seq.data(), stateOnly.data(), "state without outputs, length " + len);
            // the last logits alone (prefill, the head over the last row only): the bits of the single steps
            RwkvState lastOnly = start.copy();
            float[] lastAlone = new float[vocab];
            ev.stepSequence(lastOnly, tokens, off, len, null, lastAlone);
            assertArrayEquals(logits, lastAlone, "last logits alone, length " + len);
            assertArrayEquals(single.data(), lastOnly.data(), "state with the last logits alone, length " + len);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sequenceModels")
    void twoThreadsGiveTheBitsOfOne(Path model) throws IOException {
        RwkvModel m = RwkvModel.load(model);
        int batch = 64, vocab = m.vocab();
        Random rnd = new Random(7);
        int[] tokens = rnd.ints(batch, 0, vocab).toArray();
        float[][] logits = new float[2][batch * vocab];
        RwkvState[][] states = new RwkvState[2][batch];
        for (int t = 1; t <= 2; t++) {
            try (RwkvEvaluator ev = m.newEvaluator(t)) {
                assertEquals(t, ev.threads());
                for (int b = 0; b < batch; b++) {
                    states[t - 1][b] = m.initialState();
                }
                for (int round = 0; round < 3; round++) {
                    ev.stepBatch(states[t - 1], tokens, batch, logits[t - 1]);
                }
            }
        }
        assertArrayEquals(logits[0], logits[1]);
        for (int b = 0; b < batch; b++) {
            assertArrayEquals(states[0][b].data(), states[1][b].data(), "state " + b);
        }
    }

    /** With several threads the per-key work is split by keys, except where keys repeat (in row order). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("sequenceModels")
    void aRepeatedStateOnTwoThreadsIsConsecutiveSteps(Path model) throws IOException {
        RwkvModel m = RwkvModel.load(model);
        int vocab = m.vocab();
        Random rnd = new Random(11);
        try (RwkvEvaluator ev = m.newEvaluator(2)) {
            RwkvState[] distinct = new RwkvState[8];
            for (int b = 0; b < distinct.length; b++) {
                distinct[b] = randomState(m, ev, rnd);
            }
            // distinct[0] twice, once through another wrapper of its array
            RwkvState[] states = {distinct[0], distinct[1], distinct[2], RwkvState.wrap(distinct[0].data()),
                    distinct[3], distinct[4]};
            RwkvState[] singles = new RwkvState[5];
            for (int b = 0; b < 5; b++) {
                singles[b] = distinct[b].copy();
            }
            int[] tokens = rnd.ints(states.length, 0, vocab).toArray();
            ev.stepBatch(states, tokens, states.length, null);
            int[] which = {0, 1, 2, 0, 3, 4};
            for (int r = 0; r < states.length; r++) {
                ev.step(singles[which[r]], tokens[r], null);
            }
            for (int b = 0; b < 5; b++) {
                assertClose(singles[b].data(), 0, distinct[b].data(), 0, m.stateSize(), "state " + b);
            }
        }
    }

    @Test
    void sequenceArgumentsAreChecked() throws IOException {
        RwkvModel m = RwkvModel.load(sequenceModels().get(0));
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState s = m.initialState();
        int[] tokens = {1, 2, 3};
        assertThrows(IllegalArgumentException.class, () -> ev.stepSequence(s, tokens, 1, 3, null, null));
        assertThrows(IllegalArgumentException.class, () -> ev.stepSequence(s, tokens, 0, 0, null, null));
        assertThrows(IllegalArgumentException.class, () -> ev.stepSequence(s, tokens, 0, 3, new float[1], null));
        assertThrows(IllegalArgumentException.class, () -> ev.stepSequence(s, tokens, 0, 3, null, new float[1]));
        assertThrows(IllegalArgumentException.class,
                () -> ev.stepSequence(s, new int[] {m.vocab()}, 0, 1, null, null));
        assertArrayEquals(m.initialState().data(), s.data(), "a refused call leaves the state alone");
    }

    static void assertClose(float[] expected, int eOff, float[] actual, int aOff, int n, String what) {
        double max = 0;
        for (int i = 0; i < n; i++) {
            float e = expected[eOff + i], a = actual[aOff + i];
            // v4's max-exponent slots start at -1e30; compare those relatively
            double d = Math.abs((double) e - a) / Math.max(1, Math.abs((double) e));
            max = Math.max(max, d);
        }
        assertTrue(max <= TOLERANCE, what + ": max |diff| " + max);
    }
}
