package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.math.MatMulKernel;
import dev.flinkrwkv.math.Matrix;
import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.ModelWriter;
import dev.flinkrwkv.model.Quantizer;
import dev.flinkrwkv.model.Tensor;
import dev.flinkrwkv.model.TensorType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A model stored in BF16 evaluates to the bits of the FP32 model of the same values (its BF16 tensors widened
 * to FP32), in every path: single steps, batches, sequences, with both kernels, the weights copied to the
 * heap or read from the mapped file. Two BF16 layouts of each tiny model: the tensors {@code quantize --type
 * BF16} stores in 16 bits, and every tensor in BF16, vectors included (as PyTorch bf16 checkpoints hold them).
 */
class Bf16ModelTest {
    @TempDir
    Path dir;

    static List<Path> fp32Models() throws IOException {
        try (Stream<Path> s = Files.list(SharedData.tinyModels())) {
            return s.filter(p -> p.getFileName().toString().endsWith("-FP32.bin")).sorted().toList();
        }
    }

    /** Writes {@code in} with every tensor in BF16 (rounded to nearest even), with the project's own writer. */
    static void writeAllBf16(Path in, Path out) throws IOException {
        ModelFile f = ModelFile.open(in);
        try (ModelWriter w = ModelWriter.create(out, 101, f.vocab(), f.embed(), f.layers(), TensorType.BF16.code)) {
            for (Tensor t : f.tensors().values()) {
                float[] row = new float[t.cols()];
                w.write(t.name(), TensorType.BF16, t.shape(), (r, o) -> {
                    t.dequantizeRow(r, row, 0);
                    TensorType.BF16.storage.encode(row, 0, t.cols(), o);
                });
            }
            w.finish();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fp32Models")
    void aBf16ModelGivesTheBitsOfItsFp32Values(Path fp32) throws IOException {
        Path converted = dir.resolve("converted-bf16.bin"), all = dir.resolve("all-bf16.bin");
        Quantizer.convert(fp32, converted, TensorType.BF16, RwkvSpec::keptUnquantizedByAnyVersion);
        writeAllBf16(fp32, all);
        // the tiny v6 and v7 models were trained in bfloat16: their FP32 files hold bfloat16 values only
        boolean valuesAreBf16 = allValuesAreBf16(ModelFile.open(fp32));
        for (Path bf16 : List.of(converted, all)) {
            Path widened = dir.resolve("widened.bin");
            Quantizer.convert(bf16, widened, TensorType.FP32, RwkvSpec::keptUnquantizedByAnyVersion);
            assertNotNull(RwkvModel.load(bf16).storageTypes().get(TensorType.BF16), bf16 + " holds BF16 tensors");
            assertEquals(null, RwkvModel.load(widened).storageTypes().get(TensorType.BF16));
            String before = System.getProperty(Matrix.WEIGHTS_PROPERTY);
            MatMulKernel kernelBefore = MatMulKernel.get();
            try {
                for (String weights : new String[] {"heap", "mapped"}) {
                    System.setProperty(Matrix.WEIGHTS_PROPERTY, weights); // read when a model's matrices are made
                    RwkvModel b = RwkvModel.load(bf16), f = RwkvModel.load(widened), o = RwkvModel.load(fp32);
                    for (MatMulKernel kernel : new MatMulKernel[] {MatMulKernel.vector(), MatMulKernel.scalar()}) {
                        MatMulKernel.set(kernel);
                        float[] want = run(f);
                        float[] got = run(b);
                        assertArrayEquals(want, got, bf16.getFileName() + " of " + SharedData.stem(fp32) + ", "
                                + kernel.name() + " kernel, weights " + weights);
                        assertEquals(valuesAreBf16, Arrays.equals(run(o), got),
                                "the BF16 model gives the original's bits if and only if its values are bfloat16s");
                    }
                }
            } finally {
                MatMulKernel.set(kernelBefore);
                if (before == null) {
                    System.clearProperty(Matrix.WEIGHTS_PROPERTY);
                } else {
                    System.setProperty(Matrix.WEIGHTS_PROPERTY, before);
                }
            }
        }
    }

    static boolean allValuesAreBf16(ModelFile f) {
        for (Tensor t : f.tensors().values()) {
            for (float v : t.toFloats()) {
                if ((Float.floatToRawIntBits(v) & 0xFFFF) != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Every output of a fixed script, one after the other: logits and state after single steps, after batches
     * of 3 and 64 (twice each, the second from the states the first advanced), after a sequence of 17 tokens
     * with its log-probs.
     */
    static float[] run(RwkvModel m) {
        List<float[]> out = new ArrayList<>();
        Random rnd = new Random(3);
        int vocab = m.vocab();
        try (RwkvEvaluator ev = m.newEvaluator()) {
            RwkvState s = m.initialState();
            for (int t : new int[] {34, 105, 110}) {
                out.add(ev.step(s, t, new float[vocab]).clone());
            }
            out.add(s.data().clone());
            for (int batch : new int[] {3, 64}) {
                RwkvState[] states = new RwkvState[batch];
                for (int b = 0; b < batch; b++) {
                    states[b] = m.initialState();
                }
                for (int round = 0; round < 2; round++) {
                    float[] logits = new float[batch * vocab];
                    ev.stepBatch(states, rnd.ints(batch, 0, vocab).toArray(), batch, logits);
                    out.add(logits);
                }
                for (RwkvState st : states) {
                    out.add(st.data().clone());
                }
            }
            int len = 17;
            float[] lp = new float[len - 1], last = new float[vocab];
            ev.stepSequence(s, rnd.ints(len, 0, vocab).toArray(), 0, len, lp, last);
            out.add(lp);
            out.add(last);
            out.add(s.data().clone());
        }
        int n = 0;
        for (float[] a : out) {
            n += a.length;
        }
        float[] all = new float[n];
        int at = 0;
        for (float[] a : out) {
            System.arraycopy(a, 0, all, at, a.length);
            at += a.length;
        }
        return all;
    }
}
