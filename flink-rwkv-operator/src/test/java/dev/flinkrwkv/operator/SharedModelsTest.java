package dev.flinkrwkv.operator;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.rwkv.RwkvModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One loaded model per file per JVM, shared by the operator's subtasks, dropped by the last one. */
class SharedModelsTest {
    @TempDir
    Path dir;

    @Test
    void subtasksOfOneFileShareOneModelUntilTheLastReleasesIt() throws Exception {
        Path v4 = Files.copy(SharedData.tinyModel("tiny-rwkv-4v0-660K-FP16.bin"), dir.resolve("v4.bin"));
        Path v7 = Files.copy(SharedData.tinyModel("tiny-rwkv-7v0-834K-FP16.bin"), dir.resolve("v7.bin"));
        Path link = Files.createSymbolicLink(dir.resolve("link.bin"), v4);
        RwkvModel a = SharedModels.acquire(v4);
        Files.createDirectory(dir.resolve("sub"));
        RwkvModel b = SharedModels.acquire(dir.resolve("sub/../v4.bin"));
        RwkvModel c = SharedModels.acquire(link);
        RwkvModel other = SharedModels.acquire(v7);
        assertSame(a, b, "the same file by another path");
        assertSame(a, c, "the same file through a link");
        assertNotSame(a, other);
        assertEquals(2, SharedModels.held());
        SharedModels.release(a);
        SharedModels.release(b);
        assertEquals(2, SharedModels.held(), "one subtask still uses the v4 model");
        SharedModels.release(c);
        assertEquals(1, SharedModels.held());
        SharedModels.release(other);
        assertEquals(0, SharedModels.held());
    }

    @Test
    void aFileReplacedOnDiskIsLoadedAfresh() throws Exception {
        Path file = Files.copy(SharedData.tinyModel("tiny-rwkv-5v2-730K-FP16.bin"), dir.resolve("m.bin"));
        RwkvModel before = SharedModels.acquire(file);
        Files.copy(SharedData.tinyModel("tiny-rwkv-6v0-1m-FP16.bin"), file,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + 5_000));
        RwkvModel after = SharedModels.acquire(file);
        assertNotSame(before, after);
        assertEquals(2, SharedModels.held());
        assertTrue(after.version() != before.version(), before.version() + " then " + after.version());
        SharedModels.release(before);
        SharedModels.release(after);
        assertEquals(0, SharedModels.held());
    }

    @Test
    void aMissingFileFailsWithTheLoadersMessage() {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SharedModels.acquire(dir.resolve("none.bin")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertEquals(0, SharedModels.held());
    }
}
