package dev.flinkrwkv.tokenize;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ByteLevelBpeTokenizerTest {
    private final Tokenizer neox = Tokenizers.named("20b");

    /**
     * The ids the Hugging Face tokenizers library gives for 20B_tokenizer.json: logs, English, code, CJK and other
     * scripts, emoji, whitespace runs, numbers, special tokens, text that NFC changes, and random mixtures.
     */
    @Test
    void givesTheReferenceIds() throws Exception {
        Map<String, TokenizerCases.Case> cases = TokenizerCases.read("20b-tokenizer-cases.json");
        assertTrue(cases.size() > 150, "cases: " + cases.size());
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, TokenizerCases.Case> e : cases.entrySet()) {
            TokenizerCases.Case c = e.getValue();
            int[] ids = neox.encode(c.text());
            if (!java.util.Arrays.equals(c.ids(), ids)) {
                wrong.add(e.getKey() + ": expected " + java.util.Arrays.toString(c.ids()) + " got " + java.util.Arrays.toString(ids));
            }
            assertEquals(Normalizer.normalize(c.text(), Normalizer.Form.NFC), neox.decode(c.ids()), e.getKey());
        }
        assertEquals(List.of(), wrong);
    }

    /** Threads sharing one tokenizer (and its cache of merged words) all get the reference ids. */
    @Test
    @Timeout(60)
    void threadsSharingItGetTheReferenceIds() throws Exception {
        List<TokenizerCases.Case> cases = new ArrayList<>(TokenizerCases.read("20b-tokenizer-cases.json").values());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int thread = 0; thread < 4; thread++) {
                int seed = thread;
                results.add(pool.submit(() -> {
                    java.util.Random r = new java.util.Random(seed);
                    int ok = 0;
                    for (int i = 0; i < 20 * cases.size(); i++) {
                        TokenizerCases.Case c = cases.get(r.nextInt(cases.size()));
                        ok += java.util.Arrays.equals(c.ids(), neox.encode(c.text())) ? 1 : 0;
                    }
                    return ok;
                }));
            }
            for (Future<Integer> f : results) {
                assertEquals(20 * cases.size(), f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theTable() {
        assertEquals("20b", neox.name());
        assertEquals(50277, neox.vocab());
        assertEquals("<|endoftext|>", neox.decode(new int[] {0}));
        assertEquals("  ", neox.decode(new int[] {50276}));
        assertEquals(" world", neox.decode(new int[] {1533}));
        assertArrayEquals(new int[] {12092, 1533}, neox.encode("Hello world".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> neox.tokenLength(50277));
        assertArrayEquals(new int[0], neox.encode(""));
    }

    @Test
    void serializesAsItsName() throws Exception {
        byte[] bytes = TokenizerCases.serialize(neox);
        assertTrue(bytes.length < 1000, "serialized size " + bytes.length);
        assertSame(neox, TokenizerCases.deserialize(bytes));
    }

    @Test
    void readsATokenizerJsonFile(@TempDir Path dir) throws Exception {
        // bytes 'a'..'c' and the rest of the byte alphabet, merges a+b then ab+c
        StringBuilder vocab = new StringBuilder();
        int[] charToByte = ByteLevel.charToByte();
        int id = 0;
        for (int c = 0; c < charToByte.length; c++) {
            if (charToByte[c] >= 0) {
                String s = String.valueOf((char) c);
                vocab.append(id == 0 ? "" : ",").append('"').append(s.equals("\"") || s.equals("\\") ? "\\" + s : s)
                        .append("\":").append(id++);
            }
        }
        vocab.append(",\"ab\":").append(id).append(",\"abc\":").append(id + 1);
        String json = "{\"added_tokens\":[{\"id\":" + (id + 2) + ",\"content\":\"<eos>\",\"special\":true}],"
                + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false},"
                + "\"model\":{\"type\":\"BPE\",\"vocab\":{" + vocab + "},\"merges\":[\"a b\",[\"ab\",\"c\"]]}}";
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, json);
        Tokenizer t = Tokenizers.named(f.toString());
        assertEquals(id + 3, t.vocab());
        int a = charToByte['a'] == 'a' ? idOf(charToByte, 'a') : -1;
        assertArrayEquals(new int[] {id + 1, id, id + 2, a}, t.encode("abcab<eos>a"));
        assertEquals("abcab<eos>a", t.decode(t.encode("abcab<eos>a")));

        Files.writeString(f, json.replace("\"ByteLevel\"", "\"Whitespace\""));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.named(f.toString()));
        assertEquals(f + ": only the ByteLevel pre-tokenizer with its GPT-2 pattern and no prefix space is supported",
                e.getMessage());
        Files.writeString(f, "{\"model\": [");
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.named(f.toString()));
        assertTrue(e.getMessage().startsWith(f + ": not a tokenizer.json file: JSON:"), e.getMessage());
    }

    /** The id of a byte's token in the test vocabulary above: its rank in the byte-level alphabet. */
    private static int idOf(int[] charToByte, char c) {
        int id = 0;
        for (int k = 0; k < c; k++) {
            if (charToByte[k] >= 0) {
                id++;
            }
        }
        return id;
    }
}
