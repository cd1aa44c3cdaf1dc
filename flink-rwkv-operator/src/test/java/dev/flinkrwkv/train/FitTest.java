package dev.flinkrwkv.train;

import dev.flinkrwkv.rwkv.RwkvSpec;
import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.Quantizer;
import dev.flinkrwkv.model.TensorType;
import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fitting end to end on a small repetitive text: the held-out loss falls well below 1 bit per byte, the
 * written rwkv.cpp file scores every byte as the trainer does, and runs are reproducible and resumable.
 */
class FitTest {
    private static final Rwkv7Shape SHAPE = new Rwkv7Shape(256, 32, 2, 16, 128, 16, 16, 16, 16);
    private static final int CONTEXT = 32;
    private static final Rwkv7Trainer.Settings ONE_THREAD = new Rwkv7Trainer.Settings(CONTEXT, 4, 1);

    private static TrainingData data;
    private static Rwkv7Trainer fitted;
    private static double heldOutBits;

    /** Lines from a small grammar: repetitive, but with enough variety that memorizing one cycle fails. */
    static TrainingData repetitiveText() {
        String[] who = {"the cat", "a dog", "my bird", "the fox"};
        String[] what = {"sleeps", "runs home", "eats lunch", "sings"};
        String[] when = {"today", "at night", "again"};
        StringBuilder sb = new StringBuilder();
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        for (int i = 0; i < 300; i++) {
            sb.append(who[rnd.nextInt(who.length)]).append(' ').append(what[rnd.nextInt(what.length)]).append(' ')
                    .append(when[rnd.nextInt(when.length)]).append(".\n");
        }
        return TrainingData.split(sb.toString().getBytes(StandardCharsets.US_ASCII), 0.1);
    }

    @BeforeAll
    static void fit() {
        data = repetitiveText();
        int steps = 300;
        LearningRateSchedule lr = new LearningRateSchedule(3e-3, 0.1, 20);
        fitted = Rwkv7Trainer.create(SHAPE, 1, data, ONE_THREAD);
        for (int s = 0; s < steps; s++) {
            fitted.step(lr.rate(s, (double) s / steps), 1.0);
        }
        heldOutBits = fitted.evaluate(data.heldOut(), Integer.MAX_VALUE) / Math.log(2);
        System.out.printf("held-out loss after %d steps: %.4f bits per byte%n", steps, heldOutBits);
    }

    @Test
    void aFewHundredStepsDriveTheHeldOutLossWellBelowOneBitPerByte() {
        assertTrue(heldOutBits < 0.7, "held-out loss " + heldOutBits + " bits per byte");
    }

    @Test
    void theWrittenModelScoresEveryByteAsTheTrainerDoes(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("fitted.bin");
        fitted.writeModel(file);
        RwkvModel engine = RwkvModel.load(file);
        assertEquals(SHAPE.layers(), engine.layers());
        assertEquals(SHAPE.embed(), engine.embed());

        byte[] text = data.heldOut();
        RwkvEvaluator ev = engine.newEvaluator();
        RwkvState state = engine.initialState();
        float[] logits = new float[256];
        double[] engineLoss = new double[text.length - 1];
        for (int i = 0; i + 1 < text.length; i++) {
            ev.step(state, text[i] & 0xFF, logits);
            engineLoss[i] = -LogProbs.of(logits, 0, 256, text[i + 1] & 0xFF);
        }

        Rwkv7Chunk chunk = new Rwkv7Chunk(fitted.model(), CONTEXT);
        double[] carried = new double[SHAPE.stateSize()];
        int[] in = new int[CONTEXT], target = new int[CONTEXT];
        double worst = 0;
        for (int pos = 0; pos < text.length - 1; pos += CONTEXT) {
            int n = Math.min(CONTEXT, text.length - 1 - pos);
            for (int i = 0; i < n; i++) {
                in[i] = text[pos + i] & 0xFF;
                target[i] = text[pos + i + 1] & 0xFF;
            }
            chunk.forward(in, target, n, carried);
            for (int i = 0; i < n; i++) {
                worst = Math.max(worst, Math.abs(chunk.tokenLoss(i) - engineLoss[pos + i]));
            }
        }
        // The engine is float32 over float32 weights, the trainer double: they differ by float rounding.
        float[] engineState = state.data();
        double worstState = 0;
        for (int i = 0; i < carried.length; i++) {
            worstState = Math.max(worstState, Math.abs(carried[i] - engineState[i]));
        }
        System.out.printf("engine vs trainer: max per-byte loss difference %.2e nats, state %.2e%n", worst, worstState);
        assertTrue(worst < 1e-4, "per-byte loss differs by " + worst);
        assertTrue(worstState < 1e-3, "final state differs by " + worstState);
    }

    @Test
    void aQuantizedModelIsTheFp32FileQuantizedAndScoresCloseToIt(@TempDir Path dir) throws IOException {
        Path fp32 = dir.resolve("fitted.bin"), direct = dir.resolve("fitted-q8.bin"), converted = dir.resolve("conv-q8.bin");
        fitted.writeModel(fp32);
        fitted.writeModel(direct, TensorType.Q8_0);
        Quantizer.convert(fp32, converted, TensorType.Q8_0, RwkvSpec::keptUnquantizedByAnyVersion);
        assertArrayEquals(Files.readAllBytes(converted), Files.readAllBytes(direct));

        ModelFile q = ModelFile.open(direct);
        assertEquals(TensorType.Q8_0.code, q.mainTypeCode());
        assertEquals(TensorType.Q8_0, q.tensor("blocks.0.att.key.weight").type());
        assertEquals(TensorType.FP32, q.tensor("emb.weight").type());
        double fp32Bits = engineBits(fp32), q8Bits = engineBits(direct);
        System.out.printf("held-out through the engine: FP32 %.4f, Q8_0 %.4f bits per byte%n", fp32Bits, q8Bits);
        assertTrue(Math.abs(q8Bits - fp32Bits) < 0.05, "Q8_0 " + q8Bits + " vs FP32 " + fp32Bits);
    }

    /** Mean next-byte loss over the held-out text, in bits, through the inference engine. */
    private static double engineBits(Path file) throws IOException {
        RwkvModel engine = RwkvModel.load(file);
        byte[] text = data.heldOut();
        RwkvEvaluator ev = engine.newEvaluator();
        RwkvState state = engine.initialState();
        float[] logits = new float[256];
        double nats = 0;
        for (int i = 0; i + 1 < text.length; i++) {
            ev.step(state, text[i] & 0xFF, logits);
            nats -= LogProbs.of(logits, 0, 256, text[i + 1] & 0xFF);
        }
        return nats / (text.length - 1) / Math.log(2);
    }

    @Test
    void sameSeedAndThreadCountGiveTheSameModelAndACheckpointResumesExactly(@TempDir Path dir) throws IOException {
        Rwkv7Trainer.Settings twoThreads = new Rwkv7Trainer.Settings(16, 4, 2);
        double[] straight;
        try (Rwkv7Trainer a = Rwkv7Trainer.create(SHAPE, 5, data, twoThreads)) {
            for (int s = 0; s < 6; s++) {
                a.step(1e-3, 1.0);
            }
            straight = a.model().values().clone();
        }
        Path ckpt = dir.resolve("fit.ckpt");
        try (Rwkv7Trainer b = Rwkv7Trainer.create(SHAPE, 5, data, twoThreads)) {
            for (int s = 0; s < 3; s++) {
                b.step(1e-3, 1.0);
            }
            b.saveCheckpoint(ckpt, 1234);
        }
        try (Rwkv7Trainer c = Rwkv7Trainer.resume(ckpt, data, 2)) {
            assertEquals(3, c.steps());
            assertEquals(1234, c.resumedElapsedNanos());
            for (int s = 0; s < 3; s++) {
                c.step(1e-3, 1.0);
            }
            assertArrayEquals(straight, c.model().values());
        }
    }
}
