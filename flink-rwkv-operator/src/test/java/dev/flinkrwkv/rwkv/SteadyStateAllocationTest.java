package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.math.Matrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A warm evaluator allocates nothing per step, batch or sequence call. In a class (and so, with the
 * module's one-JVM-per-class surefire setting, a JVM) of its own: whether C2 keeps the Vector API's vectors
 * in registers depends on what else the JVM compiled before, and this asserts the evaluator's steady state.
 */
class SteadyStateAllocationTest {
    @Test
    void aWarmEvaluatorAllocatesNothingPerStep() throws IOException {
        for (Path model : BatchAndSequenceTest.sequenceModels()) {
            RwkvModel m = RwkvModel.load(model);
            // one thread, and two (the batch's per-key work then goes through MatMulThreads.forEachRange;
            // this measures the calling thread, which runs the first range)
            for (int threads = 1; threads <= 2; threads++) {
                try (RwkvEvaluator ev = m.newEvaluator(threads)) {
                    assertWarmAllocatesNothing(model, m, ev);
                }
            }
        }
    }

    /** The same for a model stored in BF16 (every tensor), its weights copied to the heap and mapped. */
    @Test
    void aWarmEvaluatorOfABf16ModelAllocatesNothingPerStep(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("tiny-rwkv-7v0-834K-BF16.bin");
        Bf16ModelTest.writeAllBf16(SharedData.tinyModels().resolve("tiny-rwkv-7v0-834K-FP32.bin"), model);
        String before = System.getProperty(Matrix.WEIGHTS_PROPERTY);
        try {
            for (String weights : new String[] {"heap", "mapped"}) {
                System.setProperty(Matrix.WEIGHTS_PROPERTY, weights);
                RwkvModel m = RwkvModel.load(model);
                try (RwkvEvaluator ev = m.newEvaluator(1)) {
                    assertWarmAllocatesNothing(model, m, ev);
                }
            }
        } finally {
            if (before == null) {
                System.clearProperty(Matrix.WEIGHTS_PROPERTY);
            } else {
                System.setProperty(Matrix.WEIGHTS_PROPERTY, before);
            }
        }
    }

    private static void assertWarmAllocatesNothing(Path model, RwkvModel m, RwkvEvaluator ev) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int batch = 8, len = 17;
        RwkvState[] states = new RwkvState[batch];
        for (int b = 0; b < batch; b++) {
            states[b] = m.initialState();
        }
        int[] tokens = new Random(1).ints(len, 0, m.vocab()).toArray();
        float[] logits = new float[batch * m.vocab()];
        float[] lp = new float[len - 1];
        // a ragged batch: three keys of 17, 1 and 9 tokens, record ends rounded, some logits
        RaggedBatch ragged = new RaggedBatch().rounding(dev.flinkrwkv.state.StatePrecision.BFLOAT16::roundInPlace);
        int[] lengths = {len, 1, 9};
        Runnable work = () -> {
            ev.step(states[0], tokens[0], logits);
            ev.stepBatch(states, tokens, batch, logits);
            ev.stepSequence(states[1], tokens, 0, len, lp, logits);
            ragged.clear();
            for (int k = 0; k < lengths.length; k++) {
                ragged.addKey(states[2 + k]);
                for (int i = 0; i < lengths[k]; i++) {
                    ragged.addRow(tokens[i], tokens[(i + 1) % len]);
                    if (i == 4) {
                        ragged.endRecord();
                        ragged.wantLogits();
                    }
                }
                ragged.endRecord();
            }
            ev.step(ragged);
        };
        // Warm-up: buffers grown, hot loops compiled by C2 (Vector API code allocates its vectors until it
        // is compiled, and on a busy machine the compiler threads may take seconds). So measure in rounds
        // until a round allocates nothing or a deadline passes; a real per-step allocation never stops.
        long deadline = System.nanoTime() + 60_000_000_000L;
        long perIteration;
        do {
            for (int i = 0; i < 100; i++) {
                work.run();
            }
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 20; i++) {
                work.run();
            }
            perIteration = (mx.getCurrentThreadAllocatedBytes() - before) / 20;
        } while (perIteration >= 64 && System.nanoTime() < deadline);
        String what = SharedData.stem(model) + ", " + ev.threads() + " thread(s)";
        System.out.printf("%s: %d bytes allocated per step + batch + sequence + ragged batch%n", what, perIteration);
        assertTrue(perIteration < 64, what + ": " + perIteration + " bytes per iteration");
    }
}
