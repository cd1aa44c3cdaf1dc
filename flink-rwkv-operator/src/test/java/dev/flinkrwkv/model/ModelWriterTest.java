package dev.flinkrwkv.model;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.tensor.Half;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
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

class ModelWriterTest {
    @TempDir
    Path dir;

    static List<Path> models() throws IOException {
        return SharedData.allModels();
    }

    /** Writes a file's header and tensors again, in its order. */
    static void rewrite(ModelFile in, Path out) throws IOException {
        try (ModelWriter w = ModelWriter.create(out, in.fileVersion(), in.vocab(), in.embed(), in.layers(),
                in.mainTypeCode())) {
            for (Tensor t : in.tensors().values()) {
                w.write(t);
            }
            w.finish();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void rewritingEveryTensorReproducesTheFile(Path model) throws IOException {
        Path out = dir.resolve("copy.bin");
        rewrite(ModelFile.open(model), out);
        assertArrayEquals(Files.readAllBytes(model), Files.readAllBytes(out));
    }

    @Test
    void rowsFromAnEncoderLandInOrder() throws IOException {
        Path out = dir.resolve("rows.bin");
        int cols = 64, rows = 5000; // more than one buffer of FP32 rows
        try (ModelWriter w = ModelWriter.create(out, 101, 1, cols, 1, TensorType.FP32.code)) {
            w.write("m", TensorType.FP32, new int[] {cols, rows}, (r, buf) -> {
                for (int c = 0; c < cols; c++) {
                    buf.putFloat(r * 1000f + c);
                }
            });
            w.write("v", TensorType.FP16, new int[] {cols}, (r, buf) -> {
                for (int c = 0; c < cols; c++) {
                    buf.putShort(2 * c, Half.fromFloat(c)); // absolute puts work too
                }
            });
            w.finish();
        }
        ModelFile f = ModelFile.open(out);
        float[] m = f.tensor("m").toFloats();
        for (int r = 0; r < rows; r += 777) {
            assertEquals(r * 1000f + 7, m[r * cols + 7]);
        }
        assertEquals(List.of("m", "v"), new ArrayList<>(f.tensors().keySet()));
    }

    @Test
    void wholeFileFromRecords() throws IOException {
        Path out = dir.resolve("records.bin");
        ByteBuffer data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).flip();
        ModelWriter.write(out, 100, 3, 2, 1, 0, List.of(new ModelWriter.Record("x", TensorType.FP32, new int[] {2}, data)));
        ModelFile f = ModelFile.open(out);
        assertEquals(100, f.fileVersion());
        assertEquals(3, f.vocab());
        assertArrayEquals(new float[] {1.5f, -2f}, f.tensor("x").toFloats());
        assertEquals(24 + 12 + 4 + 1 + 8, Files.size(out));
    }

    @Test
    void theFileGetsTheUsualPermissionsNotOwnerOnly() throws IOException {
        Path ordinary = Files.createFile(dir.resolve("ordinary"));
        Path model = dir.resolve("perm.bin");
        ModelWriter.write(model, 101, 4, 32, 1, 0, List.of(new ModelWriter.Record("x", TensorType.FP32, new int[] {1},
                ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN))));
        assertEquals(Files.getPosixFilePermissions(ordinary), Files.getPosixFilePermissions(model));
    }

    @Test
    void aFailedWriteLeavesNoFile() throws IOException {
        Path out = dir.resolve("failed.bin");
        assertThrows(IOException.class, () -> {
            try (ModelWriter w = ModelWriter.create(out, 101, 1, 32, 1, 0)) {
                w.write("a", TensorType.FP32, new int[] {32, 100}, (r, buf) -> {
                    if (r == 50) {
                        throw new IOException("source went away");
                    }
                });
                w.finish();
            }
        });
        assertFalse(Files.exists(out));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(0, s.count(), "the temporary file is gone too");
        }
    }

    @Test
    void refusesRecordsThatNoReaderWouldAccept() throws IOException {
        try (ModelWriter w = ModelWriter.create(dir.resolve("bad.bin"), 101, 1, 32, 1, 0)) {
            ByteBuffer eight = ByteBuffer.allocate(8);
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> w.write("short", TensorType.FP32, new int[] {4}, eight)).getMessage().contains("needs 16 bytes"));
            assertThrows(IllegalArgumentException.class, () -> w.write("q", TensorType.Q8_0, new int[] {48}, (r, b) -> { }));
            assertThrows(IllegalArgumentException.class, () -> w.write("", TensorType.FP32, new int[] {2}, eight));
            assertThrows(IllegalArgumentException.class, () -> w.write("d", TensorType.FP32, new int[] {1, 1, 1, 2}, eight));
            w.write("twice", TensorType.FP32, new int[] {2}, eight);
            assertThrows(IllegalArgumentException.class, () -> w.write("twice", TensorType.FP32, new int[] {2}, eight));
        }
    }
}
