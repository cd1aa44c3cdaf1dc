package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.model.ModelFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exactness against the stored references (src/test/data): rwkv.cpp's logits after "in for every FP32 model, and the
 * float32 ("-exact") log-probs, last logits and last state over 1024 bytes of HDFS log for all 35 files.
 */
class ReferenceTest {
    static final double TOLERANCE = 1e-4;
    static byte[] hdfs;

    @BeforeAll
    static void readInput() throws IOException {
        byte[] all = Files.readAllBytes(SharedData.loghub().resolve("HDFS_2k.log"));
        hdfs = Arrays.copyOf(all, 1024);
    }

    static List<Path> models() throws IOException {
        return SharedData.allModels();
    }

    @Test
    void thereAre35Models() throws IOException {
        assertEquals(35, models().size());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void fp32LogitsAfterQuoteInMatchRwkvCpp(Path model) throws IOException {
        if (!SharedData.stem(model).endsWith("FP32")) {
            return; // the expected logits are FP32 outputs; other types differ by their rounding
        }
        RwkvModel m = RwkvModel.load(model);
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState s = m.initialState();
        float[] logits = new float[m.vocab()];
        for (int t : new int[] {34, 105, 110}) {
            ev.step(s, t, logits);
        }
        float[] expected = SharedData.readFloats(SharedData.expectedLogits(model));
        double d = maxAbsDiff(expected, logits);
        System.out.printf("%s \"in logits max|diff| %.3g%n", SharedData.stem(model), d);
        assertTrue(d <= TOLERANCE, "max |diff| " + d);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void hdfs1kMatchesExactReference(Path model) throws IOException {
        RwkvModel m = RwkvModel.load(ModelFile.open(model));
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState s = m.initialState();
        float[] logits = new float[m.vocab()];
        float[] logProbs = new float[hdfs.length - 1];
        for (int i = 0; i < hdfs.length; i++) {
            if (i > 0) {
                logProbs[i - 1] = (float) LogProbs.of(logits, 0, m.vocab(), hdfs[i] & 0xFF);
            }
            ev.step(s, hdfs[i] & 0xFF, logits);
        }
        String prefix = "hdfs1k-" + SharedData.stem(model) + "-exact";
        float[] refLp = SharedData.readFloats(SharedData.reference().resolve(prefix + ".logprobs.f32"));
        float[] refLogits = SharedData.readFloats(SharedData.reference().resolve(prefix + ".logits.f32"));
        float[] refState = SharedData.readFloats(SharedData.reference().resolve(prefix + ".state.f32"));
        double dLp = maxAbsDiff(refLp, logProbs);
        double dLogits = maxAbsDiff(refLogits, logits);
        double dState = maxAbsDiff(refState, s.data()) / maxAbs(refState);
        System.out.printf("%s hdfs1k: logprobs %.3g, logits %.3g, state (relative) %.3g%n",
                SharedData.stem(model), dLp, dLogits, dState);
        assertTrue(dLp <= TOLERANCE, "log-probs max |diff| " + dLp);
        assertTrue(dLogits <= TOLERANCE, "logits max |diff| " + dLogits);
        assertTrue(dState <= TOLERANCE, "state max |diff| relative to its largest entry " + dState);
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length, "lengths");
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
