package dev.flinkrwkv.tokenize;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StreamingDecoderTest {
    private final Tokenizer bytes = new ByteTokenizer();

    /** Feeds bytes one token each; returns what each push emitted, then what finish emitted. */
    private String[] stream(Tokenizer t, int[] ids) {
        StreamingDecoder d = new StreamingDecoder(t);
        String[] out = new String[ids.length + 1];
        for (int i = 0; i < ids.length; i++) {
            out[i] = d.push(ids[i]);
        }
        out[ids.length] = d.finish();
        return out;
    }

    @Test
    void aCharacterSplitOverTokensComesOutWholeWithItsLastByte() {
        String text = "a\u4e2d\u00e9\uD83D\uDE00b"; // 1, 3, 2, 4, 1 bytes
        String[] out = stream(bytes, bytes.encode(text));
        assertArrayEquals(new String[] {"a", "", "", "\u4e2d", "", "\u00e9", "", "", "", "\uD83D\uDE00", "b", ""}, out);
    }

    @Test
    void realTokenizersSplitCjkAndEmojiAndNothingIsBrokenOrLost() throws Exception {
        for (String name : new String[] {"world", "20b"}) {
            Tokenizer t = Tokenizers.named(name);
            String text = "\u4ee5\u4e0b\u306f\u3001 \u9f98\u9f98 \uD83E\uDD80\uD83E\uDDA9 \uD83D\uDC69\u200D\uD83D\uDC69\u200D\uD83D\uDC67 \uD808\uDC00 \u0f00\u0f01";
            int[] ids = t.encode(text);
            StreamingDecoder d = new StreamingDecoder(t);
            StringBuilder all = new StringBuilder();
            int held = 0;
            for (int id : ids) {
                d.push(id, all);
                assertTrue(text.startsWith(all.toString()), name + ": " + all);
                held = Math.max(held, d.pending().length);
            }
            assertTrue(held > 0, name + " should split some character over tokens: " + java.util.Arrays.toString(ids));
            assertEquals("", d.finish());
            assertEquals(text, all.toString(), name);
        }
    }

    @Test
    void invalidBytesBecomeOneReplacementPerMaximalSubpart() {
        assertArrayEquals(new String[] {"\uFFFD", "A", ""}, stream(bytes, new int[] {0xFF, 'A'}));
        assertArrayEquals(new String[] {"\uFFFD", ""}, stream(bytes, new int[] {0x80}));
        // E4 B8 is the start of a character; A cannot continue it
        assertArrayEquals(new String[] {"", "", "\uFFFDA", ""}, stream(bytes, new int[] {0xE4, 0xB8, 'A'}));
        // cut short at the end
        assertArrayEquals(new String[] {"", "", "\uFFFD"}, stream(bytes, new int[] {0xF0, 0x9F}));
        // an encoded surrogate: ED may not be followed by A0, and the A0 and 80 are strays
        assertArrayEquals(new String[] {"", "\uFFFD\uFFFD", "\uFFFD", ""}, stream(bytes, new int[] {0xED, 0xA0, 0x80}));
        // over U+10FFFF, and an overlong form
        assertArrayEquals(new String[] {"", "\uFFFD\uFFFD", ""}, stream(bytes, new int[] {0xF4, 0x90}));
        assertArrayEquals(new String[] {"\uFFFD", "\uFFFD", ""}, stream(bytes, new int[] {0xC0, 0xAF}));
    }

    /**
     * Whole decoding as the WHATWG encoding standard gives it (recorded from a browser-grade decoder for random
     * bytes rich in lead and continuation bytes), and split into tokens any way, the same text.
     */
    @Test
    @SuppressWarnings("unchecked")
    void replacesAsTheStandardDoesHoweverTheBytesAreSplit() throws Exception {
        String json = java.nio.file.Files.readString(
                dev.flinkrwkv.SharedData.testData("tokenizers").resolve("utf8-replacement-cases.json"), StandardCharsets.UTF_8);
        java.util.List<Object> cases = (java.util.List<Object>) Json.parse(json);
        assertEquals(300, cases.size());
        Tokenizer world = Tokenizers.named("world");
        Random r = new Random(7);
        for (Object o : cases) {
            Map<String, Object> c = (Map<String, Object>) o;
            byte[] b = java.util.HexFormat.of().parseHex((String) c.get("hex"));
            String expected = (String) c.get("text");
            assertEquals(expected, bytes.decode(bytes.encode(b)), (String) c.get("hex"));
            assertEquals(expected, String.join("", stream(bytes, bytes.encode(b))), (String) c.get("hex"));
            assertEquals(expected, String.join("", stream(world, world.encode(b))), (String) c.get("hex"));
            // and with the bytes cut into random chunks, each as one token of a made-up vocabulary
            assertEquals(expected, String.join("", streamChunks(b, r)), (String) c.get("hex"));
        }
    }

    /** For valid UTF-8 however split, the text itself; elsewhere Java's decoding but for encoded surrogates. */
    @Test
    void emitsWhatWholeDecodingGivesForAnyBytes() {
        Random r = new Random(11);
        for (int round = 0; round < 3000; round++) {
            byte[] b = new byte[r.nextInt(40)];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) (r.nextInt(3) == 0 ? r.nextInt(256) : 0x80 + r.nextInt(0x78));
            }
            String expected = new String(b, StandardCharsets.UTF_8);
            if (!java.util.HexFormat.of().formatHex(b).matches("(..)*ed[ab].*")) {
                assertEquals(expected, String.join("", streamChunks(b, r)), () -> java.util.Arrays.toString(b));
            }
            String valid = randomText(r);
            assertEquals(valid, String.join("", streamChunks(valid.getBytes(StandardCharsets.UTF_8), r)));
        }
    }

    private static String randomText(Random r) {
        StringBuilder s = new StringBuilder();
        for (int i = r.nextInt(20); i > 0; i--) {
            int cp = switch (r.nextInt(4)) {
                case 0 -> r.nextInt(0x80);
                case 1 -> 0x80 + r.nextInt(0x780);
                case 2 -> 0x800 + r.nextInt(0xD000);
                default -> 0x10000 + r.nextInt(0x100000);
            };
            s.appendCodePoint(cp);
        }
        return s.toString();
    }

    /** Streams b cut into random chunks of 1 to 5 bytes, each one token of a tokenizer made for it. */
    private String[] streamChunks(byte[] b, Random r) {
        java.util.List<byte[]> chunks = new java.util.ArrayList<>();
        for (int i = 0; i < b.length; ) {
            int n = Math.min(b.length - i, 1 + r.nextInt(5));
            chunks.add(java.util.Arrays.copyOfRange(b, i, i + n));
            i += n;
        }
        Tokenizer t = new ChunkTokenizer(chunks);
        int[] ids = new int[chunks.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        return stream(t, ids);
    }

    /** Token i is chunk i. */
    private static final class ChunkTokenizer implements Tokenizer {
        private final java.util.List<byte[]> chunks;

        ChunkTokenizer(java.util.List<byte[]> chunks) {
            this.chunks = chunks;
        }

        @Override
        public int[] encode(String text) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int vocab() {
            return chunks.size();
        }

        @Override
        public String name() {
            return "chunks";
        }

        @Override
        public int tokenLength(int id) {
            return chunks.get(id).length;
        }

        @Override
        public int tokenBytes(int id, byte[] dst, int offset) {
            byte[] c = chunks.get(id);
            System.arraycopy(c, 0, dst, offset, c.length);
            return c.length;
        }
    }

    @Test
    void pendingBytesCanBeKeptAndRestored() {
        StreamingDecoder d = new StreamingDecoder(bytes);
        assertEquals("", d.push(0xE4));
        assertEquals("", d.push(0xB8));
        byte[] kept = d.pending();
        assertArrayEquals(new byte[] {(byte) 0xE4, (byte) 0xB8}, kept);
        StreamingDecoder again = new StreamingDecoder(bytes);
        again.restore(kept);
        assertEquals("\u4e2d", again.push(0xAD));
        assertThrows(IllegalArgumentException.class, () -> again.restore(new byte[] {'a'}));
        assertEquals(0, again.pending().length);
        d.reset();
        assertEquals("x", d.push('x'));
    }

    @Test
    void anIdOutsideTheVocabularyIsAClearError() {
        StreamingDecoder d = new StreamingDecoder(Tokenizers.named("world"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.push(70000));
        assertEquals("token id 70000 is outside the vocabulary of the world tokenizer (ids 0 to 65535)", e.getMessage());
        assertFalse(d.push(0).length() > 0); // end of text stands for nothing
    }

    @Test
    void decodesTheWorldCasesTokenByToken() throws Exception {
        Tokenizer world = Tokenizers.named("world");
        for (Map.Entry<String, TokenizerCases.Case> e : TokenizerCases.read("world-tokenizer-cases.json").entrySet()) {
            assertEquals(e.getValue().text(), String.join("", stream(world, e.getValue().ids())), e.getKey());
        }
    }
}
