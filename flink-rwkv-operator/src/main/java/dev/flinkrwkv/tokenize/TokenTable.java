package dev.flinkrwkv.tokenize;

/**
 * The byte string of every token id, packed in one array: what decoding reads. An id without a string (an
 * unassigned id, World's end-of-text 0) has length 0.
 */
final class TokenTable {
    private final String tokenizer;
    private final byte[] bytes;
    /** Token {@code id} is {@code bytes[start[id], start[id + 1])}. */
    private final int[] start;

    /** {@code tokens[id]} may be null (no bytes). */
    TokenTable(String tokenizer, byte[][] tokens) {
        this.tokenizer = tokenizer;
        int n = 0;
        for (byte[] t : tokens) {
            n += t == null ? 0 : t.length;
        }
        bytes = new byte[n];
        start = new int[tokens.length + 1];
        int at = 0;
        for (int id = 0; id < tokens.length; id++) {
            start[id] = at;
            if (tokens[id] != null) {
                System.arraycopy(tokens[id], 0, bytes, at, tokens[id].length);
                at += tokens[id].length;
            }
        }
        start[tokens.length] = at;
    }

    int size() {
        return start.length - 1;
    }

    int length(int id) {
        check(id);
        return start[id + 1] - start[id];
    }

    int copy(int id, byte[] dst, int offset) {
        check(id);
        int n = start[id + 1] - start[id];
        System.arraycopy(bytes, start[id], dst, offset, n);
        return n;
    }

    /** The token's bytes, a copy. */
    byte[] get(int id) {
        byte[] out = new byte[length(id)];
        copy(id, out, 0);
        return out;
    }

    private void check(int id) {
        if (id < 0 || id >= size()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of the " + tokenizer
                    + " tokenizer (ids 0 to " + (size() - 1) + ")");
        }
    }
}
