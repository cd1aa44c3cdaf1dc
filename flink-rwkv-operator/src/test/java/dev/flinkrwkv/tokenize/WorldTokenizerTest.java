package dev.flinkrwkv.tokenize;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorldTokenizerTest {
    private final Tokenizer world = Tokenizers.named("world");

    @Test
    void givesTheReferenceIdsAndDecodesThemBack() throws Exception {
        Map<String, TokenizerCases.Case> cases = TokenizerCases.read("world-tokenizer-cases.json");
        assertEquals(6, cases.size());
        for (Map.Entry<String, TokenizerCases.Case> e : cases.entrySet()) {
            TokenizerCases.Case c = e.getValue();
            assertArrayEquals(c.ids(), world.encode(c.text()), e.getKey());
            assertArrayEquals(c.ids(), world.encode(c.text().getBytes(StandardCharsets.UTF_8)), e.getKey());
            assertEquals(c.text(), world.decode(c.ids()), e.getKey());
        }
    }

    @Test
    void theTable() {
        assertEquals("world", world.name());
        assertEquals(65536, world.vocab());
        assertEquals(0, world.tokenLength(0)); // end of text
        assertEquals(0, world.tokenLength(65535)); // unassigned
        assertArrayEquals("\t\t".getBytes(StandardCharsets.UTF_8), world.decodeBytes(new int[] {257}));
        assertArrayEquals(new byte[] {(byte) 0xFF}, world.decodeBytes(new int[] {256}));
        assertEquals(128, world.tokenLength(65529));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> world.tokenLength(65536));
        assertEquals("token id 65536 is outside the vocabulary of the world tokenizer (ids 0 to 65535)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> world.decode(new int[] {1, -1}));
        assertArrayEquals(new int[0], world.encode(""));
    }

    /** Any bytes, valid UTF-8 or not, with NULs, come back exactly, and each token is the longest match. */
    @Test
    void roundTripsRandomBytesAsGreedyLongestMatches() throws Exception {
        Map<ByteBuffer, Integer> byBytes = new HashMap<>();
        List<byte[]> pieces = new ArrayList<>();
        for (int id = 0; id < world.vocab(); id++) {
            byte[] b = world.decodeBytes(new int[] {id});
            if (b.length > 0) {
                byBytes.put(ByteBuffer.wrap(b), id);
                pieces.add(b);
            }
        }
        Random r = new Random(42);
        for (int round = 0; round < 300; round++) {
            byte[] in = randomBytes(r, pieces, r.nextInt(120));
            int[] ids = world.encode(in);
            assertArrayEquals(in, world.decodeBytes(ids), () -> "round-trip of " + Arrays.toString(in));
            assertArrayEquals(greedy(in, byBytes), ids, () -> "tokens of " + Arrays.toString(in));
        }
    }

    /** Random bytes, token pieces glued together (long matches and near misses) and the odd NUL. */
    static byte[] randomBytes(Random r, List<byte[]> pieces, int parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int k = 0; k < parts; k++) {
            switch (r.nextInt(4)) {
                case 0 -> out.write(r.nextInt(256));
                case 1 -> out.write(0);
                default -> {
                    byte[] p = pieces.get(r.nextInt(pieces.size()));
                    out.write(p, 0, r.nextInt(4) == 0 ? r.nextInt(p.length + 1) : p.length);
                }
            }
        }
        return out.toByteArray();
    }

    /** Greedy longest match by hash lookups of every prefix: slow and plain, the definition. */
    private static int[] greedy(byte[] in, Map<ByteBuffer, Integer> byBytes) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < in.length; ) {
            for (int len = Math.min(128, in.length - i); len > 0; len--) {
                Integer id = byBytes.get(ByteBuffer.wrap(in, i, len).slice());
                if (id != null) {
                    out.add(id);
                    i += len;
                    break;
                }
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void serializesAsItsNameNotItsTable() throws Exception {
        byte[] bytes = TokenizerCases.serialize(world);
        assertTrue(bytes.length < 1000, "serialized size " + bytes.length);
        assertSame(world, TokenizerCases.deserialize(bytes));
    }

    @Test
    void readsAVocabularyFileInTheSameFormat(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 256; i++) {
            b.append(i + 1).append(" b'\\x").append(String.format("%02x", i)).append("' 1\n");
        }
        b.append("300 'ab' 2\n301 '\\u00e9t\\u00e9' 5\r\n302 \"it's\" 4\n");
        Path f = dir.resolve("v.txt");
        Files.writeString(f, b.toString());
        Tokenizer t = Tokenizers.named(f.toString());
        assertEquals(302 + 1, t.vocab());
        assertArrayEquals(new int[] {300, 'c' + 1, 301, 302}, t.encode("abc\u00e9t\u00e9it's"));
        Tokenizer back = (Tokenizer) TokenizerCases.deserialize(TokenizerCases.serialize(t));
        assertArrayEquals(new int[] {300, 301}, back.encode("ab\u00e9t\u00e9"));
    }

    @Test
    void aMalformedVocabularyNamesTheLine(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.txt");
        Files.writeString(f, "1 'a' 1\n2 'bc' 3\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.named(f.toString()));
        assertEquals(f + " line 2: the literal has 2 bytes, the line says 3", e.getMessage());
        Files.writeString(f, "1 'a' 1\n");
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.named(f.toString()));
        assertTrue(e.getMessage().contains("has no token for the byte 0x0"), e.getMessage());
    }
}
