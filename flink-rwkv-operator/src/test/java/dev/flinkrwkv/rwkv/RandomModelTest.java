package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.Quantizer;
import dev.flinkrwkv.model.RwkvVersion;
import dev.flinkrwkv.model.Tensor;
import dev.flinkrwkv.model.TensorType;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
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

class RandomModelTest {
    @TempDir
    Path dir;

    static Stream<Arguments> versionsAndTypes() {
        List<Arguments> out = new ArrayList<>();
        for (RwkvVersion v : RwkvVersion.values()) {
            for (TensorType t : List.of(TensorType.FP32, TensorType.FP16, TensorType.Q4_0, TensorType.Q5_1, TensorType.Q8_0)) {
                out.add(Arguments.of(v, t));
            }
        }
        return out.stream();
    }

    /** A small model of every version in every kind of storage loads, as that version, and runs sanely. */
    @ParameterizedTest(name = "v{0} {1}")
    @MethodSource("versionsAndTypes")
    void loadsAndStepsToFiniteLogits(RwkvVersion version, TensorType type) throws IOException {
        RandomModel.Shape spec = RandomModel.Shape.of(version, 3, 64, 97).withHeadSize(32);
        Path p = dir.resolve("m.bin");
        RandomModel.Result r = RandomModel.write(spec, type, 42, p);
        assertEquals(Files.size(p), r.bytes());

        RwkvModel m = RwkvModel.load(p);
        assertEquals(version, m.version());
        assertEquals(3, m.layers());
        assertEquals(64, m.embed());
        assertEquals(97, m.vocab());
        assertEquals(version == RwkvVersion.V4 ? 0 : 2, m.heads());
        assertEquals(r.parameters(), m.parameterCount());
        assertTrue(m.storageTypes().containsKey(type), m.storageTypes().toString());
        assertEquals(type.code, m.file().mainTypeCode());

        RwkvEvaluator ev = m.newEvaluator();
        RwkvState s = m.initialState();
        float[] logits = new float[m.vocab()];
        for (int i = 0; i < 24; i++) {
            ev.step(s, (i * 37) % m.vocab(), logits);
            assertSane(logits, "logits after token " + i);
        }
        for (float v : s.data()) {
            assertTrue(Float.isFinite(v) || v == -1e30f, "state entries are finite");
        }
    }

    /** Finite, not degenerate, not exploding: a softmax over them is a real distribution. */
    static void assertSane(float[] logits, String what) {
        double min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
        for (float v : logits) {
            assertTrue(Float.isFinite(v), what + " finite");
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(max - min > 1e-3, what + " not all equal: range " + (max - min));
        assertTrue(max - min < 200, what + " of sane scale: range " + (max - min));
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws IOException {
        RandomModel.Shape spec = RandomModel.Shape.of(RwkvVersion.V7, 2, 64, 50);
        Path a = dir.resolve("a.bin"), b = dir.resolve("b.bin"), c = dir.resolve("c.bin");
        RandomModel.write(spec, TensorType.Q5_1, 7, a);
        RandomModel.write(spec, TensorType.Q5_1, 7, b);
        RandomModel.write(spec, TensorType.Q5_1, 8, c);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));
    }

    /** Quantizing a random FP32 model gives the random model written directly in that type. */
    @Test
    void writingQuantizedEqualsQuantizingTheFp32Model() throws IOException {
        RandomModel.Shape spec = RandomModel.Shape.of(RwkvVersion.V6, 2, 64, 40).withHeadSize(16);
        Path fp32 = dir.resolve("f.bin"), direct = dir.resolve("d.bin"), quantized = dir.resolve("q.bin");
        RandomModel.write(spec, TensorType.FP32, 3, fp32);
        RandomModel.write(spec, TensorType.Q4_1, 3, direct);
        Quantizer.convert(fp32, quantized, TensorType.Q4_1, RwkvSpec::keptUnquantizedByAnyVersion);
        assertArrayEquals(Files.readAllBytes(quantized), Files.readAllBytes(direct));
    }

    @Test
    void shapesFollowTheSpec() throws IOException {
        Path p = dir.resolve("s.bin");
        RandomModel.write(RandomModel.Shape.of(RwkvVersion.V7, 2, 96, 300).withHeadSize(16).withFfn(160)
                .withV7Ranks(8, 16, 24, 40), TensorType.FP16, 1, p);
        RwkvModel m = RwkvModel.load(p);
        assertEquals(6, m.heads());
        assertEquals(160, m.ffnSize());
        ModelFile f = m.file();
        assertArrayEquals(new int[] {96, 8}, f.tensor("blocks.1.att.w1").shape());
        assertArrayEquals(new int[] {16, 96}, f.tensor("blocks.1.att.a2").shape());
        assertArrayEquals(new int[] {96, 24}, f.tensor("blocks.1.att.v1").shape());
        assertArrayEquals(new int[] {40, 96}, f.tensor("blocks.1.att.g2").shape());
        assertFalse(f.has("blocks.0.att.v1"), "block 0 has no value-residual projection");

        RandomModel.write(RandomModel.Shape.of(RwkvVersion.V6, 1, 64, 10).withV6Ranks(8, 32), TensorType.FP32, 1, p);
        ModelFile v6 = ModelFile.open(p);
        assertArrayEquals(new int[] {64, 40}, v6.tensor("blocks.0.att.time_maa_w1").shape());
        assertArrayEquals(new int[] {8, 64, 5}, v6.tensor("blocks.0.att.time_maa_w2").shape());
        assertArrayEquals(new int[] {1, 64, 1}, v6.tensor("blocks.0.att.time_decay").shape());
    }

    @Test
    void defaultsFollowTheRwkvRecipes() {
        RandomModel.Shape v7 = RandomModel.Shape.of(RwkvVersion.V7, 12, 768, 65536);
        assertEquals(List.of(64, 64, 32, 128), List.of(v7.rankW(), v7.rankA(), v7.rankV(), v7.rankG()));
        assertEquals(3072, v7.ffn());
        assertEquals(12, v7.heads());
        assertEquals(2688, RandomModel.Shape.of(RwkvVersion.V6, 24, 768, 65536).ffn());
    }

    @Test
    void storedDecaysHaveTheConvertersSigns() throws IOException {
        Path p = dir.resolve("d.bin");
        RandomModel.write(RandomModel.Shape.of(RwkvVersion.V4, 1, 32, 10), TensorType.FP32, 5, p);
        for (float w : ModelFile.open(p).tensor("blocks.0.att.time_decay").toFloats()) {
            assertTrue(w < 0, "v4 stores -exp(decay)");
        }
        RandomModel.write(RandomModel.Shape.of(RwkvVersion.V5_2, 1, 32, 10).withHeadSize(8), TensorType.FP32, 5, p);
        for (float w : ModelFile.open(p).tensor("blocks.0.att.time_decay").toFloats()) {
            assertTrue(w > 0 && w < 1, "v5 stores exp(-exp(decay))");
        }
    }

    @Test
    void refusesQuantizedRowsThatAreNotWholeBlocks() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                RandomModel.write(RandomModel.Shape.of(RwkvVersion.V4, 1, 48, 10), TensorType.Q8_0, 1, dir.resolve("x.bin")));
        assertTrue(e.getMessage().contains("multiple of 32"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("x.bin")));
    }

    @Test
    void refusesHeadSizesThatDoNotDivideTheEmbedding() {
        assertThrows(IllegalArgumentException.class, () -> RandomModel.Shape.of(RwkvVersion.V5_2, 1, 64, 10).withHeadSize(24));
    }
}
