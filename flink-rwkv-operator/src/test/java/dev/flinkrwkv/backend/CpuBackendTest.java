package dev.flinkrwkv.backend;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The CPU backend's sequence mode and resident slots give exactly what the evaluator gives token by token
 * (the same code path, so bit-equal).
 */
class CpuBackendTest {
    static RwkvModel model;
    static final int[] TOKENS = "the quick brown fox".chars().toArray();

    @BeforeAll
    static void load() throws IOException {
        model = RwkvModel.load(SharedData.tinyModel("tiny-rwkv-7v0-834K-FP32.bin"));
    }

    /** Logits after each token, evaluated one step at a time. */
    static float[][] stepByStep(RwkvState s, int[] tokens, int from, int count) {
        RwkvEvaluator ev = model.newEvaluator();
        float[][] out = new float[count][model.vocab()];
        for (int t = 0; t < count; t++) {
            ev.step(s, tokens[from + t], out[t]);
        }
        return out;
    }

    @Test
    void sequenceWithEveryLogitEqualsSteps() {
        RwkvState expected = model.initialState();
        float[][] want = stepByStep(expected, TOKENS, 2, 10);
        RwkvState s = model.initialState();
        float[] logits = new float[10 * model.vocab()];
        try (Backend b = new CpuBackend(model)) {
            b.stepSequence(s, TOKENS, 2, 10, logits);
        }
        for (int t = 0; t < 10; t++) {
            assertArrayEquals(want[t], Arrays.copyOfRange(logits, t * model.vocab(), (t + 1) * model.vocab()));
        }
        assertEquals(expected, s);
    }

    @Test
    void sequenceWithLastLogitsOnly() {
        RwkvState expected = model.initialState();
        float[][] want = stepByStep(expected, TOKENS, 0, TOKENS.length);
        RwkvState s = model.initialState();
        float[] logits = new float[model.vocab()];
        try (Backend b = new CpuBackend(model)) {
            b.stepSequence(s, TOKENS, 0, TOKENS.length, logits);
        }
        assertArrayEquals(want[TOKENS.length - 1], logits);
        assertEquals(expected, s);
    }

    @Test
    void residentSlotsStepLikeStates() {
        RwkvState a = model.initialState(), b = model.initialState();
        stepByStep(a, TOKENS, 0, 3);
        try (Backend be = new CpuBackend(model)) {
            be.resizeSlots(3);
            be.writeSlot(2, a);
            be.writeSlot(0, b);
            float[] logits = new float[2 * model.vocab()];
            be.stepSlots(new int[] {2, 0}, new int[] {'x', 'y'}, 2, logits);
            float[][] wantA = stepByStep(a, new int[] {'x'}, 0, 1);
            float[][] wantB = stepByStep(b, new int[] {'y'}, 0, 1);
            assertArrayEquals(wantA[0], Arrays.copyOfRange(logits, 0, model.vocab()));
            assertArrayEquals(wantB[0], Arrays.copyOfRange(logits, model.vocab(), 2 * model.vocab()));
            RwkvState got = model.initialState();
            be.readSlot(2, got);
            assertEquals(a, got);
            be.readSlot(0, got);
            assertEquals(b, got);
            be.resizeSlots(4);
            be.readSlot(3, got);
            assertEquals(model.initialState(), got, "a new slot starts as the initial state");
            be.readSlot(2, got);
            assertEquals(a, got, "growing keeps the old slots");
        }
    }

    @Test
    void badSequenceArgumentsAreNamed() {
        try (Backend b = new CpuBackend(model)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> b.stepSequence(model.initialState(), new int[] {1, 999}, 0, 2, null));
            assertEquals("token 999 outside the vocabulary [0, 256)", e.getMessage());
        }
    }
}
