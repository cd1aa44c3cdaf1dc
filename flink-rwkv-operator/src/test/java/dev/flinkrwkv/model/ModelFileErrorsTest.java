package dev.flinkrwkv.model;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.rwkv.RwkvModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Broken model files fail at load with a {@link ModelFormatException} whose message names the file and
 * says what is wrong. Each case starts from a real tiny model (v4 FP32, file version 100) and breaks one thing.
 */
class ModelFileErrorsTest {
    @TempDir
    static Path dir;
    static Path good;
    static byte[] bytes;
    /** Byte offset of each tensor's record, by name. */
    static Map<String, Long> recordAt = new LinkedHashMap<>();

    @BeforeAll
    static void readGoodModel() throws IOException {
        good = SharedData.tinyModel("tiny-rwkv-4v0-660K-FP32.bin");
        bytes = Files.readAllBytes(good);
        long pos = ModelFile.HEADER_BYTES;
        for (Tensor t : ModelFile.open(good).tensors().values()) {
            recordAt.put(t.name(), pos);
            pos += recordSize(t);
        }
    }

    static long recordSize(Tensor t) {
        return 12 + 4L * t.dims() + t.name().getBytes(java.nio.charset.StandardCharsets.UTF_8).length + t.byteSize();
    }

    /** Writes {@code content} to a fresh file named after the case. */
    static Path file(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name + ".bin");
        Files.write(p, content);
        return p;
    }

    static byte[] withInt(byte[] src, long offset, int value) {
        byte[] b = src.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt((int) offset, value);
        return b;
    }

    /** Loads the file both ways and checks the message of the model loader's exception. */
    static void assertRejected(Path p, String... problem) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> RwkvModel.load(p));
        String m = e.getMessage();
        assertTrue(m.contains(p.toString()), "names the file: " + m);
        for (String s : problem) {
            assertTrue(m.contains(s), "says '" + s + "': " + m);
        }
    }

    @Test
    void theUnbrokenFileLoads() throws IOException {
        RwkvModel.load(file("good", bytes));
    }

    @Test
    void wrongMagic() throws IOException {
        assertRejected(file("magic", withInt(bytes, 0, 0x67676A74)), "wrong magic", "0x67676a74");
    }

    @Test
    void unsupportedFileVersion() throws IOException {
        assertRejected(file("version", withInt(bytes, 4, 102)), "unsupported file version 102");
        assertRejected(file("version-negative", withInt(bytes, 4, -1)), "unsupported file version 4294967295");
    }

    @Test
    void removedTypeCodeInATensor() throws IOException {
        long typeField = recordAt.get("blocks.0.att.key.weight") + 8;
        assertRejected(file("type5", withInt(bytes, typeField, 5)), "blocks.0.att.key.weight", "type code 5", "removed");
    }

    @Test
    void kQuantTypeCodeInATensor() throws IOException {
        long typeField = recordAt.get("emb.weight") + 8;
        assertRejected(file("type12", withInt(bytes, typeField, 12)), "emb.weight", "type code 12", "not supported");
        assertRejected(file("type99", withInt(bytes, typeField, 99)), "emb.weight", "unknown type code 99");
    }

    @Test
    void unsupportedMainType() throws IOException {
        assertRejected(file("main5", withInt(bytes, 20, 5)), "main data type", "type code 5");
        assertRejected(file("main17", withInt(bytes, 20, 17)), "main data type", "unknown type code 17");
    }

    @Test
    void quantizedMainTypeWithFileVersion100() throws IOException {
        byte[] q = withInt(withInt(bytes, 20, TensorType.Q5_1.code), 4, 100);
        assertRejected(file("q-v100", q), "version 100", "re-quantize");
    }

    @Test
    void truncatedHeader() throws IOException {
        assertRejected(file("header", Arrays.copyOf(bytes, 13)), "truncated header", "13 bytes");
    }

    @Test
    void truncatedTensorHeader() throws IOException {
        long at = recordAt.get("blocks.0.ln1.weight");
        assertRejected(file("tensor-header-fixed", Arrays.copyOf(bytes, (int) at + 7)), "truncated tensor header",
                "byte " + at);
        // the fixed part is there, the dimensions and the name are not
        assertRejected(file("tensor-header-name", Arrays.copyOf(bytes, (int) at + 18)), "truncated tensor header",
                "byte " + at);
    }

    @Test
    void truncatedTensorData() throws IOException {
        assertRejected(file("data", Arrays.copyOf(bytes, bytes.length - 100)), "truncated tensor 'head.weight'",
                "needs 131072 bytes", (131072 - 100) + " left");
    }

    @Test
    void missingTensor() throws IOException {
        int at = Math.toIntExact(recordAt.get("head.weight"));
        assertTrue(at + 12 + 8 + 11 + 131072 == bytes.length, "head.weight is the last record");
        assertRejected(file("missing", Arrays.copyOf(bytes, at)), "missing tensor 'head.weight'");
    }

    @Test
    void missingLayer() throws IOException {
        // the header claims one layer more than the file has
        assertRejected(file("layers", withInt(bytes, 16, 5)), "missing tensor 'blocks.4.ln1.weight'");
    }

    @Test
    void tensorOfTheWrongShape() throws IOException {
        // ln_out.weight (128) declared as (64, 2): same bytes, wrong shape
        long at = recordAt.get("ln_out.weight");
        byte[] b = bytes.clone();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        assertTrue(bb.getInt((int) at) == 1 && bb.getInt((int) at + 12) == 128);
        // re-encode the record as 2-D: the header grows by 4 bytes
        byte[] out = new byte[b.length + 4];
        System.arraycopy(b, 0, out, 0, (int) at);
        ByteBuffer o = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        o.putInt((int) at, 2).putInt((int) at + 4, bb.getInt((int) at + 4)).putInt((int) at + 8, 0)
                .putInt((int) at + 12, 64).putInt((int) at + 16, 2);
        System.arraycopy(b, (int) at + 16, out, (int) at + 20, b.length - (int) at - 16);
        assertRejected(file("shape-vector", out), "'ln_out.weight'", "[64, 2]", "expected [128]");

        // a matrix with its rows and columns swapped: ffn.key.weight is (128, 256), claim (256, 128)
        long k = recordAt.get("blocks.1.ffn.key.weight");
        byte[] swapped = withInt(withInt(bytes, k + 12, 256), k + 16, 128);
        assertRejected(file("shape-matrix", swapped), "'blocks.1.ffn.key.weight'", "[256, 128]", "expected [128, *]");
    }

    @Test
    void headerDimensionsThatDisagreeWithTheTensors() throws IOException {
        assertRejected(file("embed", withInt(bytes, 12, 64)), "'blocks.0.ln1.weight'", "64 values");
        assertRejected(file("vocab", withInt(bytes, 8, 300)), "'emb.weight'", "expected [128, 300]");
    }

    @Test
    void duplicatedName() throws IOException {
        int at = Math.toIntExact(recordAt.get("head.weight"));
        byte[] twice = Arrays.copyOf(bytes, bytes.length + (bytes.length - at));
        System.arraycopy(bytes, at, twice, bytes.length, bytes.length - at);
        assertRejected(file("duplicate", twice), "duplicated tensor name 'head.weight'");
    }

    @Test
    void absurdDimensions() throws IOException {
        // three dimensions of 2^31 - 1: the element count overflows 64 bits
        long at = recordAt.get("blocks.0.att.time_decay");
        byte[] b = bytes.clone();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        assertTrue(bb.getInt((int) at) == 1);
        byte[] out = new byte[b.length + 8];
        System.arraycopy(b, 0, out, 0, (int) at);
        ByteBuffer o = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        o.putInt((int) at, 3).putInt((int) at + 4, bb.getInt((int) at + 4)).putInt((int) at + 8, 0)
                .putInt((int) at + 12, Integer.MAX_VALUE).putInt((int) at + 16, Integer.MAX_VALUE)
                .putInt((int) at + 20, Integer.MAX_VALUE);
        System.arraycopy(b, (int) at + 16, out, (int) at + 24, b.length - (int) at - 16);
        assertRejected(file("absurd", out), "blocks.0.att.time_decay", "too large");
    }

    @Test
    void badTensorRecordFields() throws IOException {
        long at = recordAt.get("blocks.0.ln1.bias");
        assertRejected(file("dims0", withInt(bytes, at, 0)), "byte " + at, "0 dimensions");
        assertRejected(file("dims4", withInt(bytes, at, 4)), "byte " + at, "4 dimensions");
        assertRejected(file("keylen", withInt(bytes, at + 4, 0)), "byte " + at, "name length 0");
        assertRejected(file("ne0", withInt(bytes, at + 12, 0)), "byte " + at, "dimension 0 = 0");
    }

    @Test
    void emptyFile() throws IOException {
        assertRejected(file("empty", new byte[0]), "is empty");
    }

    @Test
    void aDirectory() throws IOException {
        Path d = Files.createDirectories(dir.resolve("a-directory.bin"));
        assertRejected(d, "is a directory");
    }

    @Test
    void aNonexistentPath() {
        assertRejected(dir.resolve("no-such-model.bin"), "does not exist");
    }
}
