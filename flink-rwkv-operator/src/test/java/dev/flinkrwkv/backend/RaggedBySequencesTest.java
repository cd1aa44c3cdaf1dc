package dev.flinkrwkv.backend;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.rwkv.RaggedBatch;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.state.StatePrecision;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link RaggedBatch#stepBySequences}, the GPU backend's way through a ragged batch, checked on the CPU's
 * sequence mode: for three keys with records of assorted lengths (empty ones too), targets on most rows, the
 * logits of some rows and bfloat16 rounding at record ends, every log-probability, logit and final state
 * equals the CPU evaluator's ragged pass bit for bit, whatever the rows per run.
 */
class RaggedBySequencesTest {
    @ParameterizedTest(name = "at most {0} rows per run")
    @ValueSource(ints = {1, 3, 1000})
    void equalsTheRaggedPass(int maxRowsPerRun) throws IOException {
        RwkvModel model = RwkvModel.load(SharedData.tinyModel("tiny-rwkv-5v2-730K-FP32.bin"));
        int vocab = model.vocab();
        Random rnd = new Random(7);
        int keys = 3;
        List<RwkvState> a = new ArrayList<>(), b = new ArrayList<>();
        for (int k = 0; k < keys; k++) {
            RwkvState s = model.initialState();
            a.add(s);
            b.add(s.copy());
        }
        RaggedBatch.Rounding bf16 = StatePrecision.BFLOAT16::roundInPlace;
        RaggedBatch ragged = new RaggedBatch().rounding(bf16);
        RaggedBatch bySequences = new RaggedBatch().rounding(bf16);
        List<Integer> slots = new ArrayList<>();
        for (int k = 0; k < keys; k++) {
            ragged.addKey(a.get(k));
            bySequences.addKey(b.get(k));
            for (int record = 0; record < 4; record++) {
                int len = rnd.nextInt(7); // 0: an empty record adds no row
                for (int i = 0; i < len; i++) {
                    int token = rnd.nextInt(vocab);
                    int target = rnd.nextInt(5) == 0 ? RaggedBatch.NO_TARGET : rnd.nextInt(vocab);
                    ragged.addRow(token, target);
                    bySequences.addRow(token, target);
                    if (rnd.nextInt(3) == 0) {
                        slots.add(ragged.wantLogits());
                        bySequences.wantLogits();
                    }
                }
                if (len > 0) {
                    ragged.endRecord();
                    bySequences.endRecord();
                }
            }
        }
        try (RwkvEvaluator ev = model.newEvaluator(); CpuBackend cpu = new CpuBackend(model)) {
            ev.step(ragged);
            bySequences.stepBySequences(vocab, maxRowsPerRun, cpu::stepSequence);
        }
        assertEquals(ragged.rows(), bySequences.rows());
        for (int r = 0; r < ragged.rows(); r++) {
            assertEquals(Double.doubleToLongBits(ragged.logProb(r)), Double.doubleToLongBits(bySequences.logProb(r)),
                    "log-prob of row " + r);
        }
        int n = slots.size() * vocab;
        assertArrayEquals(Arrays.copyOf(ragged.logits(), n), Arrays.copyOf(bySequences.logits(), n));
        for (int k = 0; k < keys; k++) {
            assertArrayEquals(a.get(k).data(), b.get(k).data(), "state of key " + k);
        }
    }
}
