package dev.flinkrwkv.jobs.tools;

import dev.flinkrwkv.jobs.Main;
import dev.flinkrwkv.tokenize.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code tokenize} and {@code detokenize} command lines. */
class TokenizeCommandTest {
    @TempDir
    Path dir;

    private record Result(int code, byte[] out, String err) {
        String text() {
            return new String(out, StandardCharsets.UTF_8);
        }
    }

    private static Result run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    private static int[] readIds(Path f) throws Exception {
        byte[] raw = Files.readAllBytes(f);
        int[] ids = new int[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(ids);
        return ids;
    }

    @Test
    void tokenizePrintsTheIds() throws Exception {
        Path in = dir.resolve("in.txt");
        Files.writeString(in, "Hello world");
        Result r = run("tokenize", "--tokenizer", "20b", "--input", in.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("12092 1533\n", r.text());
        r = run("tokenize", "--tokenizer", "bytes", "--input", in.toString());
        assertEquals("72 101 108 108 111 32 119 111 114 108 100\n", r.text());
    }

    /** Any bytes, invalid UTF-8 and NULs included, go through World ids and come back byte for byte. */
    @Test
    void worldIdsFileRoundTripsAnyBytes() throws Exception {
        byte[] bytes = ("log line \u4e2d\u6587 \uD83D\uDE00\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] withJunk = new byte[bytes.length + 4];
        System.arraycopy(bytes, 0, withJunk, 0, bytes.length);
        withJunk[bytes.length] = (byte) 0xFF;
        withJunk[bytes.length + 2] = (byte) 0xE4;
        Path in = dir.resolve("in.bin");
        Files.write(in, withJunk);
        Path ids = dir.resolve("in.i32");
        Result r = run("tokenize", "--tokenizer", "world", "--input", in.toString(), "--ids", ids.toString());
        assertEquals(0, r.code(), r.err());
        int[] expected = Tokenizers.named("world").encode(withJunk);
        assertArrayEquals(expected, readIds(ids));
        assertEquals(expected.length + " tokens written to " + ids + "\n", r.text());

        Path back = dir.resolve("back.bin");
        r = run("detokenize", "--tokenizer", "world", "--ids", ids.toString(), "--out", back.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(withJunk, Files.readAllBytes(back));
        r = run("detokenize", "--tokenizer", "world", "--ids", ids.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(withJunk, r.out());
    }

    @Test
    void detokenizeRefusesIdsTheTokenizerLacksAndBrokenFiles() throws Exception {
        Path ids = dir.resolve("ids.i32");
        Files.write(ids, new byte[] {1, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 0, 0});
        Result r = run("detokenize", "--tokenizer", "20b", "--ids", ids.toString());
        assertEquals(1, r.code());
        assertEquals("flink-rwkv detokenize: token id 65535 at position 1 of " + ids
                + " is outside the vocabulary of the 20b tokenizer (ids 0 to 50276)\n", r.err());
        Files.write(ids, new byte[] {1, 0, 0});
        r = run("detokenize", "--tokenizer", "bytes", "--ids", ids.toString());
        assertEquals(1, r.code());
        assertEquals("flink-rwkv detokenize: " + ids + " has 3 bytes, not a whole number of little-endian int32 ids\n",
                r.err());
    }

    @Test
    void badOptionsAreOneLine() {
        Result r = run("tokenize", "--tokenizer", "wrold", "--input", dir.resolve("x").toString());
        assertEquals(1, r.code());
        assertEquals("flink-rwkv tokenize: unknown tokenizer 'wrold': name world, 20b or bytes, or give the path of a"
                + " vocabulary file\n", r.err());
        r = run("tokenize", "--tokenizer", "world", "--input", dir.resolve("missing.txt").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("flink-rwkv tokenize: input "), r.err());
        r = run("tokenize", "--tokenizer", "world");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("flink-rwkv tokenize: missing --input"), r.err());
    }
}
