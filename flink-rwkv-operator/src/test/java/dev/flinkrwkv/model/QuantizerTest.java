package dev.flinkrwkv.model;

import dev.flinkrwkv.rwkv.RwkvSpec;
import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.tensor.BFloat16;
import dev.flinkrwkv.tensor.Half;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The quantizer against the files made by rwkv.cpp's own quantizer and converter: equal byte for byte (their
 * SHA-256 are stored with the test data, the files themselves are not).
 */
class QuantizerTest {
    @TempDir
    Path dir;

    static List<Path> fp32Models() {
        return SharedData.modelNames().stream().filter(n -> n.endsWith("-FP32.bin")).map(SharedData::tinyModel).toList();
    }

    /** Every FP32 tiny model with every type rwkv.cpp's quantizer made a file of: 5 x 5. */
    static Stream<Arguments> rwkvCppQuantizations() {
        List<Arguments> out = new ArrayList<>();
        for (Path fp32 : fp32Models()) {
            String stem = SharedData.stem(fp32).replace("-FP32", "");
            for (TensorType t : List.of(TensorType.Q4_0, TensorType.Q4_1, TensorType.Q5_0, TensorType.Q5_1, TensorType.Q8_0)) {
                out.add(Arguments.of(fp32, t, stem + "-" + t + ".bin"));
            }
        }
        return out.stream();
    }

    @Test
    void thereAre25Cases() {
        assertEquals(25, rwkvCppQuantizations().count());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("rwkvCppQuantizations")
    void equalsRwkvCppByteForByte(Path fp32, TensorType type, String rwkvCppFile) throws IOException {
        Path out = dir.resolve("q.bin");
        Quantizer.Result r = Quantizer.convert(fp32, out, type, RwkvSpec::keptUnquantizedByAnyVersion);
        assertEquals(SharedData.rwkvCppSha256(rwkvCppFile), SharedData.sha256(out), "SHA-256 of rwkv.cpp's " + rwkvCppFile);
        assertTrue(r.converted() > 0 && r.outputBytes() < r.inputBytes());
    }

    /** FP32 to FP16 applies the converter's rule: the same tensors in half as rwkv.cpp's FP16 files. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fp32Models")
    void fp16MatchesTheConvertersFp16File(Path fp32) throws IOException {
        Path out = dir.resolve("h.bin");
        Quantizer.convert(fp32, out, TensorType.FP16, RwkvSpec::keptUnquantizedByAnyVersion);
        byte[] got = Files.readAllBytes(out);
        assertEquals(101, ByteBuffer.wrap(got).order(ByteOrder.LITTLE_ENDIAN).getInt(4), "file version");
        // the tiny v4 files come from an older converter that wrote file version 100 in both files; the rest is the same
        int version = ModelFile.open(fp32).fileVersion();
        ByteBuffer.wrap(got).order(ByteOrder.LITTLE_ENDIAN).putInt(4, version);
        Files.write(out, got);
        String fp16 = fp32.getFileName().toString().replace("FP32", "FP16");
        assertEquals(SharedData.rwkvCppSha256(fp16), SharedData.sha256(out), "SHA-256 of rwkv.cpp's " + fp16);
    }

    static Stream<Arguments> fp32ModelsAndHalfTypes() throws IOException {
        return fp32Models().stream().flatMap(p -> Stream.of(Arguments.of(p, TensorType.FP16), Arguments.of(p, TensorType.BF16)));
    }

    /** FP16 or BF16 and back to FP32: the FP32 file, with the tensors stored in 16 bits rounded. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("fp32ModelsAndHalfTypes")
    void halfBackToFp32IsTheFp32FileRounded(Path fp32, TensorType half) throws IOException {
        Path h = dir.resolve("h.bin");
        Path f = dir.resolve("f.bin");
        Quantizer.convert(fp32, h, half, RwkvSpec::keptUnquantizedByAnyVersion);
        ModelFile hf = ModelFile.open(h);
        assertEquals(half.code, hf.mainTypeCode());
        for (Tensor t : hf.tensors().values()) {
            assertEquals(t.dims() >= 2 && Quantizer.storesAsHalf(t.name(), t.dims()) ? half : TensorType.FP32, t.type(),
                    t.name());
        }
        Quantizer.convert(h, f, TensorType.FP32, RwkvSpec::keptUnquantizedByAnyVersion);
        ModelFile a = ModelFile.open(fp32);
        ModelFile b = ModelFile.open(f);
        assertEquals(new ArrayList<>(a.tensors().keySet()), new ArrayList<>(b.tensors().keySet()));
        for (Tensor t : a.tensors().values()) {
            Tensor u = b.tensor(t.name());
            assertEquals(TensorType.FP32, u.type());
            float[] want = t.toFloats();
            if (t.dims() >= 2 && Quantizer.storesAsHalf(t.name(), t.dims())) {
                for (int i = 0; i < want.length; i++) {
                    want[i] = half == TensorType.FP16 ? Half.round(want[i]) : BFloat16.round(want[i]);
                }
            }
            assertArrayEquals(want, u.toFloats(), t.name());
        }
    }

    /** FP16 input is widened first: FP16 -> Q8_0 loads, runs and stays near the FP32 model's logits. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fp32Models")
    void fp16ToQ8_0LoadsAndEvaluates(Path fp32) throws IOException {
        Path fp16 = SharedData.tinyModel(fp32.getFileName().toString().replace("FP32", "FP16"));
        Path out = dir.resolve("q8.bin");
        Quantizer.convert(fp16, out, TensorType.Q8_0, RwkvSpec::keptUnquantizedByAnyVersion);
        RwkvModel m = RwkvModel.load(out);
        assertEquals(9, m.file().mainTypeCode());
        assertEquals(101, m.file().fileVersion());
        assertTrue(m.storageTypes().containsKey(TensorType.Q8_0));
        float[] logits = logitsAfterQuoteIn(m);
        float[] expected = SharedData.readFloats(SharedData.expectedLogits(fp32));
        double maxDiff = 0;
        for (int i = 0; i < logits.length; i++) {
            assertTrue(Float.isFinite(logits[i]));
            maxDiff = Math.max(maxDiff, Math.abs(logits[i] - expected[i]));
        }
        System.out.printf("%s FP16->Q8_0: max |logit - FP32 expected| %.3g%n", SharedData.stem(fp32), maxDiff);
        assertTrue(maxDiff < 0.25, "8-bit weights stay close to the FP32 model: " + maxDiff);
    }

    static float[] logitsAfterQuoteIn(RwkvModel m) {
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState s = m.initialState();
        float[] logits = new float[m.vocab()];
        for (int t : new int[] {34, 105, 110}) {
            ev.step(s, t, logits);
        }
        return logits;
    }

    @Test
    void refusesAQuantizedInput() throws IOException {
        Path q = SharedData.tinyModel("tiny-rwkv-5v2-730K-Q5_1.bin");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Quantizer.convert(q, dir.resolve("x.bin"), TensorType.Q4_0, RwkvSpec::keptUnquantizedByAnyVersion));
        assertTrue(e.getMessage().contains("already Q5_1"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("x.bin")));
    }

    @Test
    void refusesToOverwriteItsInput() throws IOException {
        Path copy = dir.resolve("m.bin");
        Files.copy(fp32Models().get(0), copy);
        byte[] before = Files.readAllBytes(copy);
        assertThrows(IllegalArgumentException.class, () -> Quantizer.convert(copy, dir.resolve(".").resolve("m.bin"), TensorType.Q8_0, RwkvSpec::keptUnquantizedByAnyVersion));
        assertArrayEquals(before, Files.readAllBytes(copy));
    }

    /**
     * Each type decodes back to within a quantization step of its input (half a step, except at the far
     * end of the symmetric Q4_0/Q5_0, which clamp the value opposite the block's largest to one step less).
     */
    @Test
    void blocksRoundTripWithinAStep() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
        float[] x = new float[256];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1) * (1 + i / 32);
        }
        for (TensorType t : TensorType.values()) {
            ByteBuffer b = ByteBuffer.allocate((int) t.bytesFor(x.length)).order(ByteOrder.LITTLE_ENDIAN);
            t.storage.encode(x, 0, x.length, b);
            assertEquals(b.capacity(), b.position(), t + " fills its bytes");
            float[] y = new float[x.length];
            t.storage.decode(b, 0, x.length, y, 0);
            for (int i = 0; i < x.length; i++) {
                float blockMax = 1 + i / 32;
                float step = t == TensorType.FP32 ? 0 : t == TensorType.FP16 ? blockMax / 1024 : t == TensorType.BF16 ? blockMax / 128
                        : t == TensorType.Q8_0 ? blockMax / 127 : t == TensorType.Q5_0 ? blockMax / 16
                        : t == TensorType.Q5_1 ? 2 * blockMax / 31 : t == TensorType.Q4_0 ? blockMax / 8 : 2 * blockMax / 15;
                // plus the half rounding of d and m
                assertTrue(Math.abs(x[i] - y[i]) <= step + blockMax * 0.01, t + " value " + i + ": " + x[i] + " vs " + y[i]);
            }
        }
    }
}
