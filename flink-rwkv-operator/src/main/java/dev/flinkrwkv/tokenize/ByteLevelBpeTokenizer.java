package dev.flinkrwkv.tokenize;

import java.io.IOException;
import java.io.InputStream;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A byte-level BPE tokenizer read from a Hugging Face {@code tokenizer.json}: built in, the GPT-NeoX 20B tokenizer
 * of the RWKV-4 Pile models ({@code 20B_tokenizer.json}, shipped in the jar; vocabulary 50277).
 *
 * <p>Encoding follows the Hugging Face pipeline for this kind of file: the text is split on the added tokens
 * that are not normalized ({@code <|endoftext|>}, {@code <|padding|>}: leftmost, then longest match); each
 * other piece is normalized (NFC) and split on the normalized added tokens (20B: runs of 2 to 24 spaces); what
 * remains is cut into words by the GPT-2 pattern
 * {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+} (written out as a scanner
 * here), and each word's UTF-8 bytes are merged pair by pair, the pair of lowest merge rank first (leftmost
 * among equals), until no pair of the word has a merge. Decoding concatenates the tokens' bytes; an added
 * token stands for its text, so {@code <|endoftext|>} decodes to that text.
 */
public final class ByteLevelBpeTokenizer extends TableTokenizer {
    private static final long serialVersionUID = 1L;

    /** The GPT-NeoX 20B tokenizer in the jar. */
    public static final String RESOURCE = "/dev/flinkrwkv/tokenize/20B_tokenizer.json";

    private static final int SPACE = 0;
    private static final int LETTER = 1;
    private static final int NUMBER = 2;
    private static final int OTHER = 3;
    private static final byte[] ASCII_KIND = new byte[128];

    static {
        for (int c = 0; c < 128; c++) {
            ASCII_KIND[c] = (byte) kindOf(c);
        }
    }

    /** The token of each single byte: where every word starts before its merges. */
    private final int[] byteToken;
    /** Pair (left id, right id) to merge rank; {@link #mergeResult}[rank] is the merged token. */
    private final PairMap mergeRank;
    private final int[] mergeResult;
    private final AddedTokens rawAdded;
    private final AddedTokens normalizedAdded;
    private final boolean nfc;
    /**
     * Words already merged, by hash, one per slot: text repeats its words, and a merge costs a dozen table
     * lookups. Entries are immutable and published through final fields, so threads may share the array without
     * locks (a racing write loses an entry, never corrupts one).
     */
    private final CachedWord[] cache = new CachedWord[1 << 13];

    private static final int MAX_CACHED_WORD = 48;

    private ByteLevelBpeTokenizer(String name, int vocab, TokenTable table, int[] byteToken, PairMap mergeRank,
            int[] mergeResult, AddedTokens rawAdded, AddedTokens normalizedAdded, boolean nfc, SerialForm serialForm) {
        super(name, vocab, table, serialForm);
        this.byteToken = byteToken;
        this.mergeRank = mergeRank;
        this.mergeResult = mergeResult;
        this.rawAdded = rawAdded;
        this.normalizedAdded = normalizedAdded;
        this.nfc = nfc;
    }

    /** The 20B tokenizer from the file in the jar (read once; prefer {@code Tokenizers.named("20b")}). */
    static ByteLevelBpeTokenizer builtIn20b() {
        try (InputStream in = ByteLevelBpeTokenizer.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the 20B tokenizer " + RESOURCE + " is missing from the jar");
            }
            return parse("20b", in.readAllBytes(), SerialForm.builtIn("20b"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A tokenizer from the bytes of a {@code tokenizer.json} with a byte-level BPE model.
     *
     * @throws IllegalArgumentException for a file that is not one, or that asks for a step not implemented here
     */
    @SuppressWarnings("unchecked")
    static ByteLevelBpeTokenizer parse(String name, byte[] file, SerialForm serialForm) {
        Map<String, Object> root;
        try {
            root = (Map<String, Object>) Json.parse(new String(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new IllegalArgumentException(name + ": not a tokenizer.json file: " + e.getMessage());
        }
        try {
            return build(name, root, serialForm);
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            throw new IllegalArgumentException(name + ": " + (e instanceof IllegalArgumentException ? e.getMessage()
                    : "unexpected layout of a tokenizer.json file (" + e + ")"));
        }
    }

    @SuppressWarnings("unchecked")
    private static ByteLevelBpeTokenizer build(String name, Map<String, Object> root, SerialForm serialForm) {
        Map<String, Object> model = (Map<String, Object>) root.get("model");
        if (model == null || !"BPE".equals(model.getOrDefault("type", "BPE"))) {
            throw new IllegalArgumentException("only BPE models are supported, this is "
                    + (model == null ? "no model" : model.get("type")));
        }
        for (String option : new String[] {"dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix"}) {
            Object v = model.get(option);
            if (v != null && !"".equals(v)) {
                throw new IllegalArgumentException("the BPE option " + option + "=" + v + " is not supported");
            }
        }
        if (Boolean.TRUE.equals(model.get("byte_fallback"))) {
            throw new IllegalArgumentException("the BPE option byte_fallback is not supported");
        }
        Map<String, Object> normalizer = (Map<String, Object>) root.get("normalizer");
        boolean nfc = normalizer != null;
        if (nfc && !"NFC".equals(normalizer.get("type"))) {
            throw new IllegalArgumentException("the normalizer " + normalizer.get("type") + " is not supported (only NFC)");
        }
        Map<String, Object> pre = (Map<String, Object>) root.get("pre_tokenizer");
        if (pre == null || !"ByteLevel".equals(pre.get("type")) || Boolean.TRUE.equals(pre.get("add_prefix_space"))
                || Boolean.FALSE.equals(pre.get("use_regex"))) {
            throw new IllegalArgumentException("only the ByteLevel pre-tokenizer with its GPT-2 pattern and no prefix"
                    + " space is supported");
        }

        Map<String, Object> vocabMap = (Map<String, Object>) model.get("vocab");
        List<Object> added = root.get("added_tokens") == null ? List.of() : (List<Object>) root.get("added_tokens");
        int size = 0;
        for (Object v : vocabMap.values()) {
            size = Math.max(size, ((Long) v).intValue() + 1);
        }
        for (Object a : added) {
            size = Math.max(size, ((Long) ((Map<String, Object>) a).get("id")).intValue() + 1);
        }
        byte[][] tokens = new byte[size][];
        int[] byteToken = new int[256];
        Arrays.fill(byteToken, -1);
        int[] charToByte = ByteLevel.charToByte();
        for (Map.Entry<String, Object> e : vocabMap.entrySet()) {
            int id = ((Long) e.getValue()).intValue();
            byte[] b = ByteLevel.decode(e.getKey(), charToByte);
            if (b == null) {
                throw new IllegalArgumentException("the vocabulary entry '" + e.getKey() + "' is not byte-level text");
            }
            tokens[id] = b;
            if (b.length == 1) {
                byteToken[b[0] & 0xFF] = id;
            }
        }
        for (int b = 0; b < 256; b++) {
            // the text is encoded as UTF-8, which never holds 0xC0, 0xC1 or 0xF5 to 0xFF (20B has no token for them)
            boolean inUtf8 = b != 0xC0 && b != 0xC1 && b < 0xF5;
            if (byteToken[b] < 0 && inUtf8) {
                throw new IllegalArgumentException("the vocabulary has no token for the byte 0x" + Integer.toHexString(b));
            }
        }

        List<Object> merges = (List<Object>) model.get("merges");
        PairMap rank = new PairMap(size, merges.size());
        int[] result = new int[merges.size()];
        for (int r = 0; r < merges.size(); r++) {
            Object m = merges.get(r);
            String left;
            String right;
            if (m instanceof String) {
                String s = (String) m;
                int sp = s.indexOf(' ', 1);
                if (sp < 0) {
                    throw new IllegalArgumentException("merge " + r + " '" + s + "' is not two tokens");
                }
                left = s.substring(0, sp);
                right = s.substring(sp + 1);
            } else {
                List<Object> pair = (List<Object>) m;
                left = (String) pair.get(0);
                right = (String) pair.get(1);
            }
            Object l = vocabMap.get(left);
            Object rt = vocabMap.get(right);
            Object merged = vocabMap.get(left + right);
            if (l == null || rt == null || merged == null) {
                throw new IllegalArgumentException("merge " + r + " (" + left + " " + right + ") names a token not in the vocabulary");
            }
            rank.putIfAbsent(((Long) l).intValue(), ((Long) rt).intValue(), r); // a repeated merge keeps its first rank
            result[r] = ((Long) merged).intValue();
        }

        AddedTokens raw = new AddedTokens();
        AddedTokens normalized = new AddedTokens();
        for (Object o : added) {
            Map<String, Object> a = (Map<String, Object>) o;
            String content = (String) a.get("content");
            int id = ((Long) a.get("id")).intValue();
            for (String flag : new String[] {"lstrip", "rstrip", "single_word"}) {
                if (Boolean.TRUE.equals(a.get(flag))) {
                    throw new IllegalArgumentException("the added token " + id + " sets " + flag + ", which is not supported");
                }
            }
            if (content.isEmpty()) {
                throw new IllegalArgumentException("the added token " + id + " is empty");
            }
            tokens[id] = content.getBytes(StandardCharsets.UTF_8);
            // Special tokens are matched on the raw text unless they say otherwise; others on the normalized text.
            boolean special = Boolean.TRUE.equals(a.get("special"));
            Object norm = a.get("normalized");
            boolean isNormalized = norm == null ? !special : Boolean.TRUE.equals(norm);
            (isNormalized ? normalized : raw).add(content, id);
        }
        return new ByteLevelBpeTokenizer(name, size, new TokenTable(name, tokens), byteToken, rank, result, raw,
                normalized, nfc, serialForm);
    }

    @Override
    public int[] encode(String text) {
        Work w = new Work(text.length());
        // Split on the raw added tokens; the pieces between are normalized and split again.
        int at = 0;
        for (int i = 0; i < text.length(); ) {
            long m = rawAdded.matchAt(text, i, text.length());
            if (m != 0) {
                int len = AddedTokens.length(m);
                encodePiece(text, at, i, w);
                w.add(AddedTokens.id(m));
                i += len;
                at = i;
            } else {
                i++;
            }
        }
        encodePiece(text, at, text.length(), w);
        return Arrays.copyOf(w.out, w.n);
    }

    /** Normalizes text[from, to), splits it on the normalized added tokens and encodes the rest as words. */
    private void encodePiece(String text, int from, int to, Work w) {
        if (from == to) {
            return;
        }
        String s = text;
        if (nfc && !nfcStable(text, from, to)) {
            s = Normalizer.normalize(text.substring(from, to), Normalizer.Form.NFC);
            from = 0;
            to = s.length();
        }
        int at = from;
        for (int i = from; i < to; ) {
            long m = normalizedAdded.matchAt(s, i, to);
            if (m != 0) {
                int len = AddedTokens.length(m);
                encodeWords(s, at, i, w);
                w.add(AddedTokens.id(m));
                i += len;
                at = i;
            } else {
                i++;
            }
        }
        encodeWords(s, at, to, w);
    }

    /** No character below U+0300 changes under NFC or composes with what precedes it. */
    private static boolean nfcStable(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (s.charAt(i) >= 0x300) {
                return Normalizer.isNormalized(s.subSequence(from, to), Normalizer.Form.NFC);
            }
        }
        return true;
    }

    /** The GPT-2 pattern, as a scanner: each match is one word. */
    private void encodeWords(String s, int from, int to, Work w) {
        int i = from;
        while (i < to) {
            int cp = s.codePointAt(i);
            int k = kind(cp);
            int end;
            int contraction = cp == '\'' ? contraction(s, i + 1, to) : 0;
            if (contraction > 0) {
                end = i + 1 + contraction;
            } else if (k != SPACE) {
                end = run(s, i + Character.charCount(cp), to, k);
            } else if (cp == ' ' && i + 1 < to && kind(s.codePointAt(i + 1)) != SPACE) {
                int next = s.codePointAt(i + 1);
                end = run(s, i + 1 + Character.charCount(next), to, kind(next));
            } else {
                int j = i;
                int last = i;
                while (j < to) {
                    int c = s.codePointAt(j);
                    if (kind(c) != SPACE) {
                        break;
                    }
                    last = j;
                    j += Character.charCount(c);
                }
                // \s+(?!\S): all of a run at the end, else all but its last character (which starts the next
                // word when it is a space); a single whitespace before a non-space is \s+ alone
                end = j == to || last == i ? j : last;
            }
            bpe(s, i, end, w);
            i = end;
        }
    }

    private static int run(String s, int i, int to, int kind) {
        while (i < to) {
            int c = s.codePointAt(i);
            if (kind(c) != kind) {
                break;
            }
            i += Character.charCount(c);
        }
        return i;
    }

    /** The length of s, re, ve, m, ll, d or t at i (after an apostrophe), or 0. */
    private static int contraction(String s, int i, int to) {
        if (i >= to) {
            return 0;
        }
        char a = s.charAt(i);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') {
            return 1;
        }
        if (i + 1 < to) {
            char b = s.charAt(i + 1);
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                return 2;
            }
        }
        return 0;
    }

    private static int kind(int cp) {
        return cp < 128 ? ASCII_KIND[cp] : kindOf(cp);
    }

    private static int kindOf(int cp) {
        // \s of the pattern: the Unicode White_Space characters
        if ((cp >= 9 && cp <= 13) || cp == ' ' || cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A)
                || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000) {
            return SPACE;
        }
        if (Character.isLetter(cp)) {
            return LETTER;
        }
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER
                ? NUMBER : OTHER;
    }

    /** Encodes one word, s[from, to): its UTF-8 bytes, merged by rank. */
    private void bpe(String s, int from, int to, Work w) {
        int n = w.utf8(s, from, to);
        byte[] bytes = w.bytes;
        if (n == 1) {
            w.add(byteToken[bytes[0] & 0xFF]);
            return;
        }
        int h = 0;
        for (int k = 0; k < n; k++) {
            h = (h ^ bytes[k]) * 0x9E3779B1;
        }
        int slot = (h ^ h >>> 16) & (cache.length - 1);
        CachedWord cached = cache[slot];
        if (cached != null && Arrays.equals(cached.bytes, 0, cached.bytes.length, bytes, 0, n)) {
            w.addAll(cached.ids);
            return;
        }
        int[] sym = w.sym;
        int[] next = w.next;
        int[] prev = w.prev;
        // rankAt[k]: the merge rank of the pair starting at symbol k, -1 for none (or k merged away): a heap entry
        // (rank, k) whose rank is no longer rankAt[k] is stale
        int[] rankAt = w.rankAt;
        for (int k = 0; k < n; k++) {
            sym[k] = byteToken[bytes[k] & 0xFF];
            next[k] = k + 1 < n ? k + 1 : -1;
            prev[k] = k - 1;
        }
        w.heapSize = 0;
        for (int k = 0; k + 1 < n; k++) {
            int r = mergeRank.get(sym[k], sym[k + 1]);
            rankAt[k] = r;
            if (r >= 0) {
                w.push((long) r << 32 | k);
            }
        }
        rankAt[n - 1] = -1;
        while (w.heapSize > 0) {
            long e = w.pop();
            int r = (int) (e >>> 32);
            int k = (int) e;
            if (rankAt[k] != r) {
                continue;
            }
            int j = next[k];
            sym[k] = mergeResult[r];
            rankAt[j] = -1;
            int after = next[j];
            next[k] = after;
            rankAt[k] = -1;
            if (after >= 0) {
                prev[after] = k;
                r = mergeRank.get(sym[k], sym[after]);
                rankAt[k] = r;
                if (r >= 0) {
                    w.push((long) r << 32 | k);
                }
            }
            int before = prev[k];
            if (before >= 0) {
                r = mergeRank.get(sym[before], sym[k]);
                rankAt[before] = r;
                if (r >= 0) {
                    w.push((long) r << 32 | before);
                }
            }
        }
        int start = w.n;
        for (int k = 0; k >= 0; k = next[k]) {
            w.add(sym[k]);
        }
        if (n <= MAX_CACHED_WORD) {
            cache[slot] = new CachedWord(Arrays.copyOf(bytes, n), Arrays.copyOfRange(w.out, start, w.n));
        }
    }

    /** A word's bytes and its ids. */
    private static final class CachedWord {
        final byte[] bytes;
        final int[] ids;

        CachedWord(byte[] bytes, int[] ids) {
            this.bytes = bytes;
            this.ids = ids;
        }
    }

    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("a ByteLevelBpeTokenizer is serialized as its SerialForm");
    }

    /** One encode call's scratch space: the output ids, a word's bytes and symbols, the merge heap. */
    private static final class Work {
        int[] out;
        int n;
        byte[] bytes = new byte[64];
        int[] sym = new int[64];
        int[] next = new int[64];
        int[] prev = new int[64];
        int[] rankAt = new int[64];
        long[] heap = new long[64];
        int heapSize;

        Work(int chars) {
            out = new int[Math.max(16, chars / 3)];
        }

        void add(int id) {
            if (n == out.length) {
                out = Arrays.copyOf(out, n + (n >> 1) + 16);
            }
            out[n++] = id;
        }

        void addAll(int[] ids) {
            if (n + ids.length > out.length) {
                out = Arrays.copyOf(out, n + ids.length + (n >> 1) + 16);
            }
            System.arraycopy(ids, 0, out, n, ids.length);
            n += ids.length;
        }

        /** s[from, to) as UTF-8 into bytes (a lone surrogate as '?', as String.getBytes does); the length. */
        int utf8(String s, int from, int to) {
            if (bytes.length < 3 * (to - from)) {
                int cap = 3 * (to - from) + 16;
                bytes = new byte[cap];
                sym = new int[cap];
                next = new int[cap];
                prev = new int[cap];
                rankAt = new int[cap];
                heap = new long[cap];
            }
            byte[] b = bytes;
            int n = 0;
            for (int i = from; i < to; i++) {
                char c = s.charAt(i);
                if (c < 0x80) {
                    b[n++] = (byte) c;
                } else if (c < 0x800) {
                    b[n++] = (byte) (0xC0 | c >> 6);
                    b[n++] = (byte) (0x80 | c & 0x3F);
                } else if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(s.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, s.charAt(++i));
                    b[n++] = (byte) (0xF0 | cp >> 18);
                    b[n++] = (byte) (0x80 | cp >> 12 & 0x3F);
                    b[n++] = (byte) (0x80 | cp >> 6 & 0x3F);
                    b[n++] = (byte) (0x80 | cp & 0x3F);
                } else if (Character.isSurrogate(c)) {
                    b[n++] = '?';
                } else {
                    b[n++] = (byte) (0xE0 | c >> 12);
                    b[n++] = (byte) (0x80 | c >> 6 & 0x3F);
                    b[n++] = (byte) (0x80 | c & 0x3F);
                }
            }
            return n;
        }

        void push(long e) {
            if (heapSize == heap.length) {
                heap = Arrays.copyOf(heap, heapSize * 2);
            }
            int i = heapSize++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= e) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = e;
        }

        long pop() {
            long top = heap[0];
            long e = heap[--heapSize];
            int i = 0;
            int half = heapSize >>> 1;
            while (i < half) {
                int c = 2 * i + 1;
                if (c + 1 < heapSize && heap[c + 1] < heap[c]) {
                    c++;
                }
                if (e <= heap[c]) {
                    break;
                }
                heap[i] = heap[c];
                i = c;
            }
            heap[i] = e;
            return top;
        }
    }
}
