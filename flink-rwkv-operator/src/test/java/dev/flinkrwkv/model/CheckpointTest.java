package dev.flinkrwkv.model;

import dev.flinkrwkv.rwkv.RwkvSpec;
import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.tensor.BFloat16;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Official-layout checkpoints (.pth and safetensors) load as the model of the rwkv.cpp file they convert to.
 *
 * <p>The fixtures in {@code src/test/data/pth} hold the tiny rwkv.cpp FP32 models' weights (their first
 * layers: the name says how many) in BlinkDL's names, shapes and parametrization, in float32, float16 or
 * bfloat16. Each is checked against the rwkv.cpp FP32 file cut to the same layers: same tensor names and
 * shapes, same values (bfloat16: the file's values rounded to bfloat16 in the checkpoint's parametrization,
 * i.e. before rwkv.cpp's exp transforms), and the same logits after each of the tokens of {@code "in}.
 */
class CheckpointTest {
    static final int[] TOKENS = {34, 105, 110};
    static final Pattern FIXTURE = Pattern.compile("tiny-rwkv-(.+)-(\\d)L-(fp32|fp16|bf16)\\.(pth|st|safetensors)");

    @TempDir
    Path dir;

    static Path fixture(String name) {
        return SharedData.testData("pth").resolve(name);
    }

    /** The rwkv.cpp file of a fixture ({@code FP32} or {@code FP16}), cut to the fixture's layers. */
    static ModelFile reference(String fixture, String type) throws IOException {
        Matcher m = FIXTURE.matcher(fixture);
        assertTrue(m.matches(), fixture);
        ModelFile full = ModelFile.open(SharedData.tinyModels().resolve("tiny-rwkv-" + m.group(1) + "-" + type + ".bin"));
        int layers = Integer.parseInt(m.group(2));
        List<Tensor> kept = new ArrayList<>();
        for (Tensor t : full.tensors().values()) {
            if (!t.name().startsWith("blocks.") || Integer.parseInt(t.name().split("\\.")[1]) < layers) {
                kept.add(t);
            }
        }
        return ModelFile.assembled(full.path(), "rwkv.cpp", full.size(), full.vocab(), full.embed(), layers,
                full.mainTypeCode(), kept);
    }

    /**
     * What a checkpoint stored in bfloat16 (or, with {@code bf16} false, float32) holds once loaded: rwkv.cpp's
     * value {@code x}, taken back to the checkpoint's parametrization (the inverse of the converter's exp forms),
     * rounded, and converted again.
     */
    static float expected(RwkvVersion v, String name, float x, boolean bf16) {
        if (v == RwkvVersion.V4 && name.endsWith(".time_decay")) {
            return (float) -Math.exp(round((float) Math.log(-(double) x), bf16));
        }
        if ((v == RwkvVersion.V5_1 || v == RwkvVersion.V5_2) && name.endsWith(".time_decay")) {
            return (float) Math.exp(-(float) Math.exp(round((float) Math.log(-Math.log(x)), bf16)));
        }
        if (v == RwkvVersion.V5_1 && name.endsWith(".time_first")) {
            return (float) Math.exp(round((float) Math.log(x), bf16));
        }
        return round(x, bf16);
    }

    static float round(float x, boolean bf16) {
        return bf16 ? BFloat16.round(x) : x;
    }

    static float[][] logits(ModelFile f) throws ModelFormatException {
        RwkvModel m = RwkvModel.load(f);
        try (RwkvEvaluator ev = m.newEvaluator()) {
            RwkvState s = m.initialState();
            float[][] out = new float[TOKENS.length][m.vocab()];
            for (int i = 0; i < TOKENS.length; i++) {
                ev.step(s, TOKENS[i], out[i]);
            }
            return out;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "tiny-rwkv-4v0-660K-2L-bf16.pth", "tiny-rwkv-5v1-730K-3L-bf16.pth", "tiny-rwkv-5v2-730K-3L-bf16.pth",
            "tiny-rwkv-6v0-1m-3L-bf16.pth", "tiny-rwkv-7v0-834K-3L-bf16.pth", "tiny-rwkv-6v0-1m-3L-fp32.pth",
            "tiny-rwkv-5v1-730K-3L-fp32.st", "tiny-rwkv-5v2-730K-3L-bf16.safetensors"})
    void checkpointLoadsAsTheRwkvCppFileWithTheSameValuesAndLogits(String name) throws IOException {
        boolean bf16 = name.contains("bf16");
        ModelFile ref = reference(name, "FP32");
        ModelFile ckpt = ModelFile.open(fixture(name));
        assertEquals(name.endsWith(".pth") ? "PyTorch checkpoint" : "safetensors", ckpt.format());
        RwkvVersion v = ref.detectVersion();
        assertEquals(v, ckpt.detectVersion());
        assertEquals(List.copyOf(ref.tensors().keySet()), List.copyOf(ckpt.tensors().keySet()), "names, in order");
        assertEquals(ref.vocab(), ckpt.vocab());
        assertEquals(ref.embed(), ckpt.embed());
        assertEquals(ref.layers(), ckpt.layers());
        for (Tensor r : ref.tensors().values()) {
            Tensor c = ckpt.tensor(r.name());
            assertArrayEquals(r.shape(), c.shape(), r.name());
            float[] want = r.toFloats();
            float[] got = c.toFloats();
            boolean transformed = expected(v, r.name(), 1.5f, false) != 1.5f || r.name().contains(".time_decay")
                    || r.name().contains(".time_first");
            for (int i = 0; i < want.length; i++) {
                float e = expected(v, r.name(), want[i], bf16);
                // The exp forms are recomputed from a logarithm: within rounding of rwkv.cpp's value.
                float tol = transformed ? Math.ulp(e) * 4 : 0;
                if (Math.abs(e - got[i]) > tol) {
                    throw new AssertionError(r.name() + "[" + i + "]: expected " + e + ", got " + got[i]);
                }
            }
        }
        float[][] want = logits(bf16 ? rounded(ref, v) : ref);
        float[][] got = logits(ckpt);
        for (int i = 0; i < TOKENS.length; i++) {
            if (bf16) { // the same values: BF16 weights multiply exactly as FP32 ones holding them
                assertArrayEquals(want[i], got[i], "logits after token " + i);
            }
            for (int j = 0; j < want[i].length; j++) {
                assertEquals(want[i][j], got[i][j], 1e-5, "logit " + j + " after token " + i);
            }
        }
    }

    /** The reference's tensors with their values as a bfloat16 checkpoint holds them, in FP32. */
    static ModelFile rounded(ModelFile ref, RwkvVersion v) throws ModelFormatException {
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : ref.tensors().values()) {
            float[] f = t.toFloats();
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * f.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (float x : f) {
                b.putFloat(expected(v, t.name(), x, true));
            }
            out.add(new Tensor(t.name(), TensorType.FP32, t.shape(), b.flip()));
        }
        return ModelFile.assembled(ref.path(), "rwkv.cpp", ref.size(), ref.vocab(), ref.embed(), ref.layers(),
                ref.mainTypeCode(), out);
    }

    @Test
    void float16CheckpointIsTheRwkvCppFp16FileByteForByte() throws IOException {
        // v7 has no exp forms, so the converter's FP16 file holds exactly the checkpoint's values.
        String name = "tiny-rwkv-7v0-834K-3L-fp16.pth";
        ModelFile ref = reference(name, "FP16");
        ModelFile ckpt = ModelFile.open(fixture(name));
        assertEquals(List.copyOf(ref.tensors().keySet()), List.copyOf(ckpt.tensors().keySet()));
        for (Tensor r : ref.tensors().values()) {
            Tensor c = ckpt.tensor(r.name());
            assertEquals(r.type(), c.type(), r.name());
            assertArrayEquals(r.shape(), c.shape(), r.name());
            assertEquals(r.data(), c.data(), r.name());
        }
        assertEquals(ref.fingerprint(), ckpt.fingerprint(), "same header and table as the rwkv.cpp file");
        assertEquals(RwkvModel.load(ref).storageTypes(), RwkvModel.load(ckpt).storageTypes());
    }

    @Test
    void tensorsSharingOneStorageAtOffsetsAreRead() throws IOException {
        // emb.weight and head.weight are views of one (16, 4) tensor, head at an offset of 32 values.
        ModelFile good = ModelFile.open(fixture("bad/tiny-v4-good.pth"));
        ModelFile views = ModelFile.open(fixture("shared-storage.pth"));
        assertEquals(List.copyOf(good.tensors().keySet()), List.copyOf(views.tensors().keySet()));
        for (Tensor t : good.tensors().values()) {
            assertArrayEquals(t.toFloats(), views.tensor(t.name()).toFloats(), t.name());
        }
    }

    @Test
    void matricesStayOnTheMappedFile() throws IOException {
        ModelFile ckpt = ModelFile.open(fixture("tiny-rwkv-7v0-834K-3L-fp16.pth"));
        assertTrue(ckpt.tensor("head.weight").data().isDirect(), "head.weight mapped");
        assertTrue(ckpt.tensor("blocks.2.ffn.key.weight").data().isDirect(), "ffn.key mapped");
        assertTrue(!ckpt.tensor("blocks.2.att.w1").data().isDirect(), "a transposed LoRA matrix is a heap copy");
    }

    @Test
    void readerIsChosenByContentNotByName() throws IOException {
        Path pth = dir.resolve("model.bin");
        Files.copy(fixture("tiny-rwkv-6v0-1m-3L-fp32.pth"), pth);
        Path st = dir.resolve("model");
        Files.copy(fixture("tiny-rwkv-5v1-730K-3L-fp32.st"), st);
        assertEquals("PyTorch checkpoint", ModelFile.open(pth).format());
        assertEquals("safetensors", ModelFile.open(st).format());
        assertEquals(RwkvVersion.V6, RwkvModel.load(pth).version());
        assertEquals(RwkvVersion.V5_1, RwkvModel.load(st).version());
    }

    @Test
    void convertingAFloat32CheckpointWritesTheRwkvCppFile() throws IOException {
        // v6's conversion only moves values (transposes, reshapes): the FP32 file's bytes come back exactly.
        String name = "tiny-rwkv-6v0-1m-3L-fp32.pth";
        Path out = dir.resolve("out.bin");
        Quantizer.convert(fixture(name), out, TensorType.FP32, RwkvSpec::keptUnquantizedByAnyVersion);
        ModelFile written = ModelFile.open(out);
        ModelFile ref = reference(name, "FP32");
        assertEquals(List.copyOf(ref.tensors().keySet()), List.copyOf(written.tensors().keySet()));
        for (Tensor r : ref.tensors().values()) {
            Tensor w = written.tensor(r.name());
            assertEquals(r.type(), w.type());
            assertArrayEquals(r.shape(), w.shape(), r.name());
            assertEquals(r.data(), w.data(), r.name());
        }
        assertEquals(ref.fingerprint(), written.fingerprint());
    }

    @Test
    void storageTypesFollowTheConverter() throws IOException {
        // bfloat16 matrices; vectors and the converter's FP32 list widened; the exp forms in FP32.
        ModelFile f = ModelFile.open(fixture("tiny-rwkv-5v1-730K-3L-bf16.pth"));
        assertEquals(TensorType.FP32, f.tensor("blocks.0.att.time_decay").type());
        assertArrayEquals(new int[] {1, 1, 8}, f.tensor("blocks.0.att.time_decay").shape());
        assertArrayEquals(new int[] {64}, f.tensor("blocks.0.att.time_mix_k").shape());
        assertEquals(TensorType.BF16, f.tensor("blocks.0.att.key.weight").type());
        assertTrue(f.tensor("blocks.0.att.key.weight").data().isDirect(), "bfloat16 matrices stay on the mapped file");
        assertEquals(Arrays.asList(64, 1, 6), Arrays.stream(ModelFile.open(fixture("tiny-rwkv-7v0-834K-3L-bf16.pth"))
                .tensor("blocks.1.att.x_rwkvag").shape()).boxed().toList());
    }
}
