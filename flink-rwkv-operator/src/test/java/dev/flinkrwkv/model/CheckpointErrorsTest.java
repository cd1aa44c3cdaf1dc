package dev.flinkrwkv.model;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.rwkv.RwkvModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Broken or hostile checkpoints fail at load with a {@link ModelFormatException} naming the file and the
 * problem. The {@code bad/} fixtures are a tiny one-layer v4 state dict ({@code tiny-v4-good.pth}) with
 * one thing changed each; the rest are made here from good files.
 */
class CheckpointErrorsTest {
    @TempDir
    Path dir;

    static Path bad(String name) {
        return SharedData.testData("pth").resolve("bad").resolve(name);
    }

    static void assertRejected(Path file, String... needles) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> RwkvModel.load(file));
        String m = e.getMessage();
        assertTrue(m.startsWith("model file " + file + ": "), m);
        assertTrue(!m.contains("\n"), "one line: " + m);
        for (String n : needles) {
            assertTrue(m.contains(n), "'" + n + "' in: " + m);
        }
    }

    Path write(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    /** Opens a file; anything but success or a {@link ModelFormatException} fails the test. */
    static void opensOrIsRejected(Path p, String what) {
        try {
            ModelFile.open(p);
        } catch (ModelFormatException e) {
            assertTrue(e.getMessage().startsWith("model file " + p + ": "), e.getMessage());
        } catch (Exception | StackOverflowError e) {
            throw new AssertionError(what + ": " + e, e);
        }
    }

    @Test
    @Timeout(100)
    void changedPickleBytesAndCutsAreOpenedOrRejectedInALine() throws IOException {
        byte[] good = Files.readAllBytes(bad("tiny-v4-good.pth"));
        // The pickle's first 300 bytes hold every construct it uses (the dict, a tensor rebuild, a storage's
        // persistent id, sizes, strides, hooks); the rest repeats them per tensor.
        int start = indexOf(good, "\u0080\u0002ccollections".getBytes(StandardCharsets.ISO_8859_1));
        Path p = dir.resolve("changed.pth");
        for (int i = start; i < start + 300; i++) {
            for (int v : new int[] {good[i] ^ 0x01, 0xFF}) {
                byte[] b = good.clone();
                b[i] = (byte) v;
                Files.write(p, b);
                opensOrIsRejected(p, "byte " + i + " = " + v);
            }
        }
        for (int cut = 1; cut < good.length; cut += 97) {
            Files.write(p, Arrays.copyOf(good, cut));
            opensOrIsRejected(p, "cut at " + cut);
        }
    }

    @Test
    void theUnbrokenTinyCheckpointLoads() throws IOException {
        RwkvModel m = RwkvModel.load(bad("tiny-v4-good.pth"));
        assertEquals(RwkvVersion.V4, m.version());
        assertEquals(8, m.vocab());
        assertEquals(4, m.embed());
    }

    @Test
    void notAZip() throws IOException {
        assertRejected(write("model.pth", "this is no checkpoint".getBytes(StandardCharsets.US_ASCII)), "not a zip archive");
    }

    @Test
    void truncatedZip() throws IOException {
        byte[] good = Files.readAllBytes(bad("tiny-v4-good.pth"));
        assertRejected(write("cut.pth", Arrays.copyOf(good, good.length / 2)), "central directory", "truncated");
    }

    @Test
    void unknownPickleOpcode() throws IOException {
        byte[] b = Files.readAllBytes(bad("tiny-v4-good.pth"));
        // data.pkl is stored uncompressed: its first opcode after PROTO 2 is the GLOBAL of OrderedDict.
        int at = indexOf(b, "\u0080\u0002ccollections\nOrderedDict\n".getBytes(StandardCharsets.ISO_8859_1));
        b[at + 2] = (byte) 0xFF;
        assertRejected(write("opcode.pth", b), "data.pkl", "unsupported pickle opcode 0xff");
    }

    @Test
    void forbiddenGlobal() {
        // A state dict whose value unpickles by calling os.system (pickled as posix.system).
        assertRejected(bad("os-system.pth"), "posix.system", "refused");
    }

    @Test
    void globalNamedByAnyOtherModuleIsRefusedToo() throws IOException {
        byte[] b = Files.readAllBytes(bad("tiny-v4-good.pth"));
        int at = indexOf(b, "collections\nOrderedDict\n".getBytes(StandardCharsets.ISO_8859_1));
        byte[] evil = "subprocess\nPopenDict\n\n\n".getBytes(StandardCharsets.ISO_8859_1); // same length
        System.arraycopy(evil, 0, b, at, evil.length);
        assertRejected(write("global.pth", b), "subprocess.PopenDict", "refused");
    }

    @Test
    void missingTensor() {
        assertRejected(bad("missing-tensor.pth"), "missing tensor 'blocks.0.att.key.weight'");
    }

    @Test
    void wrongShape() {
        assertRejected(bad("wrong-shape.pth"), "'blocks.0.att.key.weight'", "[4, 5] in PyTorch order", "expected [4, 4]");
    }

    @Test
    void unsupportedDtypes() {
        assertRejected(bad("float64.pth"), "'blocks.0.att.key.weight'", "dtype float64");
        assertRejected(bad("int8.pth"), "'blocks.0.att.key.weight'", "dtype int8");
    }

    @Test
    void nonContiguousTensor() {
        assertRejected(bad("transposed-view.pth"), "'blocks.0.att.key.weight'", "not contiguous");
    }

    @Test
    void safetensorsHeaderLengthBeyondTheFile() throws IOException {
        byte[] b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).put("{}  ".getBytes(StandardCharsets.US_ASCII)).array();
        assertRejected(write("model.safetensors", b), "header length 1000", "beyond the end of the 12-byte file");
    }

    @Test
    void safetensorsTruncatedData() throws IOException {
        byte[] good = Files.readAllBytes(SharedData.testData("pth").resolve("tiny-rwkv-5v1-730K-3L-fp32.st"));
        assertRejected(write("cut.st", Arrays.copyOf(good, good.length - 100)), "past the", "truncated");
    }

    @Test
    void safetensorsUnsupportedDtype() throws IOException {
        String json = "{\"emb.weight\":{\"dtype\":\"F64\",\"shape\":[2,2],\"data_offsets\":[0,32]}}";
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + 32).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h);
        assertRejected(write("f64.safetensors", b.array()), "'emb.weight'", "dtype F64");
    }

    @Test
    void safetensorsHeaderThatIsNotJson() throws IOException {
        byte[] h = "{\"emb.weight\": [1, 2".getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h);
        assertRejected(write("json.st", b.array()), "not valid JSON");
    }
}
