package dev.flinkrwkv.tokenize;

import java.io.IOException;
import java.io.InputStream;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The RWKV "World" tokenizer (RWKV-4 World, 5, 6 and 7 models; vocabulary 65536): the greedy longest match of
 * the text's UTF-8 bytes against the tokens' byte strings, so any byte string, valid UTF-8 or not, has an
 * encoding and decodes back to itself. Id 0 is end-of-text and stands for no bytes.
 *
 * <p>The table is {@code rwkv_vocab_v20230424.txt}, shipped in the jar: one token a line, its id, a Python str
 * or bytes literal of it and its length in bytes. It is read into a double-array trie: one state is four ints
 * (base, check, token, padding) in a flat array, and following a byte is one lookup ({@code base + byte}, then
 * the check that the slot belongs to this state), so encoding touches about one cache line per byte and
 * allocates nothing but its output.
 */
public final class WorldTokenizer extends TableTokenizer {
    private static final long serialVersionUID = 1L;

    /** The vocabulary in the jar. */
    public static final String RESOURCE = "/dev/flinkrwkv/tokenize/rwkv_vocab_v20230424.txt";
    /** The vocabulary size of World models (the table assigns ids 1 to 65529). */
    public static final int VOCAB = 65536;

    private static final int STRIDE = 4;
    private static final int BASE = 0;
    private static final int CHECK = 1;
    private static final int TOKEN = 2;
    private static final int FREE = -1;

    /** The trie: state {@code s} (an offset, a multiple of 4) moves on byte {@code c} to {@code t = trie[s] + 4c}
     * if {@code trie[t + 1] == s}; {@code trie[t + 2]} is the token ending there, or -1. */
    private final int[] trie;

    private WorldTokenizer(String name, int vocab, TokenTable table, int[] trie, SerialForm serialForm) {
        super(name, vocab, table, serialForm);
        this.trie = trie;
    }

    /** The World tokenizer from the table in the jar (read once; prefer {@code Tokenizers.named("world")}). */
    static WorldTokenizer builtIn() {
        try (InputStream in = WorldTokenizer.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the World vocabulary " + RESOURCE + " is missing from the jar");
            }
            return parse("world", in.readAllBytes(), VOCAB, SerialForm.builtIn("world"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A tokenizer from a vocabulary file in the World format; its vocabulary is {@code max(minVocab, last id + 1)}.
     *
     * @throws IllegalArgumentException naming the line, for a malformed file
     */
    static WorldTokenizer parse(String name, byte[] file, int minVocab, SerialForm serialForm) {
        byte[][] tokens = new byte[0][];
        int maxId = -1;
        int line = 0;
        for (int at = 0; at < file.length; ) {
            int eol = at;
            while (eol < file.length && file[eol] != '\n') {
                eol++;
            }
            line++;
            int from = at;
            int to = eol;
            at = eol + 1;
            while (to > from && (file[to - 1] == '\r' || file[to - 1] == ' ')) {
                to--;
            }
            if (to == from) {
                continue;
            }
            try {
                int sp1 = indexOf(file, from, to, (byte) ' ');
                int sp2 = lastIndexOf(file, from, to, (byte) ' ');
                if (sp1 < 0 || sp2 <= sp1) {
                    throw new IllegalArgumentException("expected: id, a Python literal, its length in bytes");
                }
                int id = number(file, from, sp1);
                int length = number(file, sp2 + 1, to);
                byte[] bytes = PythonLiteral.parse(file, sp1 + 1, sp2);
                if (bytes.length != length) {
                    throw new IllegalArgumentException("the literal has " + bytes.length + " bytes, the line says " + length);
                }
                if (bytes.length == 0) {
                    throw new IllegalArgumentException("empty token");
                }
                if (id >= tokens.length) {
                    tokens = Arrays.copyOf(tokens, Math.max(id + 1, tokens.length * 2));
                }
                if (tokens[id] != null) {
                    throw new IllegalArgumentException("id " + id + " appears twice");
                }
                tokens[id] = bytes;
                maxId = Math.max(maxId, id);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(name + " line " + line + ": " + e.getMessage());
            }
        }
        if (maxId < 0) {
            throw new IllegalArgumentException(name + ": no tokens in the vocabulary file");
        }
        int vocab = Math.max(minVocab, maxId + 1);
        tokens = Arrays.copyOf(tokens, vocab);
        return new WorldTokenizer(name, vocab, new TokenTable(name, tokens), buildTrie(name, tokens), serialForm);
    }

    @Override
    public int[] encode(String text) {
        return encode(text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public int[] encode(byte[] bytes) {
        int[] out = new int[Math.min(bytes.length, bytes.length / 3 + 16)];
        int n = 0;
        int i = 0;
        final int end = bytes.length;
        final int[] trie = this.trie;
        while (i < end) {
            // Greedy longest match from i; every single byte is a token, so the match is never empty.
            int s = 0;
            int token = -1;
            int tokenEnd = i;
            for (int j = i; j < end; ) {
                int t = trie[s + BASE] + ((bytes[j] & 0xFF) << 2);
                if (trie[t + CHECK] != s) {
                    break;
                }
                s = t;
                j++;
                int tk = trie[t + TOKEN];
                if (tk >= 0) {
                    token = tk;
                    tokenEnd = j;
                }
            }
            if (n == out.length) {
                out = Arrays.copyOf(out, Math.min(bytes.length, n + (n >> 1) + 16));
            }
            out[n++] = token;
            i = tokenEnd;
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("a WorldTokenizer is serialized as its SerialForm");
    }

    // ---- building the double-array trie ----

    private static int[] buildTrie(String name, byte[][] tokens) {
        int count = 0;
        boolean[] singleByte = new boolean[256];
        for (int id = 0; id < tokens.length; id++) {
            if (tokens[id] != null) {
                count++;
                if (tokens[id].length == 1) {
                    singleByte[tokens[id][0] & 0xFF] = true;
                }
            }
        }
        for (int b = 0; b < 256; b++) {
            if (!singleByte[b]) {
                throw new IllegalArgumentException(name + ": the vocabulary has no token for the byte 0x"
                        + Integer.toHexString(b) + ", so some texts would have no encoding");
            }
        }
        Integer[] order = new Integer[count];
        count = 0;
        for (int id = 0; id < tokens.length; id++) {
            if (tokens[id] != null) {
                order[count++] = id;
            }
        }
        Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(tokens[a], tokens[b]));
        for (int k = 1; k < order.length; k++) {
            if (Arrays.equals(tokens[order[k - 1]], tokens[order[k]])) {
                throw new IllegalArgumentException(name + ": ids " + order[k - 1] + " and " + order[k]
                        + " stand for the same bytes");
            }
        }
        return new Builder(tokens, order).build();
    }

    /** Places the trie's states breadth first, each state's children at the first base where all are free. */
    private static final class Builder {
        private final byte[][] tokens;
        private final Integer[] order;
        private int[] base = new int[1 << 16];
        private int[] check = new int[1 << 16];
        private int[] token = new int[1 << 16];
        private int firstFree = 1;
        private int used = 1;

        Builder(byte[][] tokens, Integer[] order) {
            this.tokens = tokens;
            this.order = order;
            Arrays.fill(check, FREE);
            Arrays.fill(token, -1);
            check[0] = -2; // the root: no transition leads to it
        }

        int[] build() {
            // queue of (state, first key, end key, depth); keys sorted, so a state's keys are a range
            int[] queue = new int[4 * 1024];
            int head = 0;
            int tail = 0;
            queue[tail++] = 0;
            queue[tail++] = 0;
            queue[tail++] = order.length;
            queue[tail++] = 0;
            int[] labels = new int[256];
            int[] groupStart = new int[257];
            while (head < tail) {
                int s = queue[head++];
                int lo = queue[head++];
                int hi = queue[head++];
                int depth = queue[head++];
                if (tokens[order[lo]].length == depth) { // the shortest key, first in order, ends here
                    token[s] = order[lo];
                    lo++;
                }
                int k = 0;
                for (int i = lo; i < hi; i++) {
                    int c = tokens[order[i]][depth] & 0xFF;
                    if (k == 0 || labels[k - 1] != c) {
                        labels[k] = c;
                        groupStart[k] = i;
                        k++;
                    }
                }
                groupStart[k] = hi;
                if (k == 0) {
                    continue;
                }
                int b = findBase(labels, k);
                base[s] = b;
                for (int g = 0; g < k; g++) {
                    int t = b + labels[g];
                    check[t] = s;
                    used = Math.max(used, t + 1);
                    if (tail + 4 > queue.length) {
                        // compact the consumed head away before growing
                        queue = Arrays.copyOfRange(queue, head, head + Math.max(queue.length, 2 * (tail - head) + 4));
                        tail -= head;
                        head = 0;
                    }
                    queue[tail++] = t;
                    queue[tail++] = groupStart[g];
                    queue[tail++] = groupStart[g + 1];
                    queue[tail++] = depth + 1;
                }
            }
            // Every base + byte stays inside the array: slots past the used ones are free.
            int states = used + 256;
            int[] trie = new int[states * STRIDE];
            for (int s = 0; s < states; s++) {
                boolean in = s < check.length;
                trie[s * STRIDE + BASE] = in ? base[s] * STRIDE : 0;
                trie[s * STRIDE + CHECK] = in && check[s] >= 0 ? check[s] * STRIDE : (in && s == 0 ? -2 : FREE);
                trie[s * STRIDE + TOKEN] = in ? token[s] : -1;
            }
            return trie;
        }

        private int findBase(int[] labels, int k) {
            while (check[firstFree] != FREE) {
                firstFree++;
                ensure(firstFree + 1);
            }
            for (int p = Math.max(firstFree, labels[0] + 1); ; p++) {
                ensure(p + 257);
                if (check[p] != FREE) {
                    continue;
                }
                int b = p - labels[0];
                boolean fits = true;
                for (int g = 1; g < k && fits; g++) {
                    fits = check[b + labels[g]] == FREE;
                }
                if (fits) {
                    return b;
                }
            }
        }

        private void ensure(int size) {
            if (size > check.length) {
                int n = Math.max(size, check.length * 2);
                int old = check.length;
                base = Arrays.copyOf(base, n);
                check = Arrays.copyOf(check, n);
                token = Arrays.copyOf(token, n);
                Arrays.fill(check, old, n, FREE);
                Arrays.fill(token, old, n, -1);
            }
        }
    }

    private static int indexOf(byte[] a, int from, int to, byte v) {
        for (int i = from; i < to; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    private static int lastIndexOf(byte[] a, int from, int to, byte v) {
        for (int i = to - 1; i >= from; i--) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    private static int number(byte[] a, int from, int to) {
        if (from >= to || to - from > 9) {
            throw new IllegalArgumentException("expected a number");
        }
        int v = 0;
        for (int i = from; i < to; i++) {
            if (a[i] < '0' || a[i] > '9') {
                throw new IllegalArgumentException("expected a number, got '"
                        + new String(a, from, to - from, StandardCharsets.UTF_8) + "'");
            }
            v = v * 10 + (a[i] - '0');
        }
        return v;
    }
}
