package dev.flinkrwkv.tokenize;

import java.io.Serializable;

/**
 * Turns text into the token ids a model reads, and ids back into bytes. Implementations are immutable, safe to
 * share between threads, and serializable, so that a Flink job can ship one to its operators (the tokenizers
 * with a table serialize as a reference to it, not as the table).
 *
 * <p>A token stands for a byte string, which need not be whole UTF-8 characters: decode a sequence of ids as a
 * whole ({@link #decode}) or through a {@link StreamingDecoder}, never token by token into separate strings.
 */
public interface Tokenizer extends Serializable {
    /** The token ids of {@code text}, in order. */
    int[] encode(String text);

    /**
     * The token ids of a byte string. Tokenizers over bytes (World, bytes) take any bytes and give them back
     * exactly on decoding; text tokenizers (20B) read the bytes as UTF-8, an invalid sequence becoming U+FFFD.
     */
    default int[] encode(byte[] bytes) {
        return encode(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
    }

    /** The vocabulary size this tokenizer produces ids for: every id is in {@code [0, vocab())}. */
    int vocab();

    /** A short name: {@code world}, {@code 20b}, {@code bytes}, or the file a table was read from. */
    String name();

    /**
     * The number of bytes token {@code id} stands for (0 for an id that stands for none, such as World's
     * end-of-text 0).
     *
     * @throws IllegalArgumentException if {@code id} is outside {@code [0, vocab())}
     */
    int tokenLength(int id);

    /**
     * Copies the bytes of token {@code id} into {@code dst} at {@code offset}, which must have room for
     * {@link #tokenLength}{@code (id)} bytes; returns that length.
     *
     * @throws IllegalArgumentException if {@code id} is outside {@code [0, vocab())}
     */
    int tokenBytes(int id, byte[] dst, int offset);

    /** The bytes the ids stand for, concatenated. */
    default byte[] decodeBytes(int[] ids) {
        int n = 0;
        for (int id : ids) {
            n += tokenLength(id);
        }
        byte[] out = new byte[n];
        int at = 0;
        for (int id : ids) {
            at += tokenBytes(id, out, at);
        }
        return out;
    }

    /**
     * The text the ids stand for: their bytes as UTF-8, with a U+FFFD for each maximal subpart of an invalid or
     * incomplete sequence (see {@link StreamingDecoder}, which emits the same text token by token).
     */
    default String decode(int[] ids) {
        StreamingDecoder d = new StreamingDecoder(this);
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            d.push(id, out);
        }
        d.finish(out);
        return out.toString();
    }

    /** Throws a clear error for an id outside {@code [0, vocab())}. */
    default void checkId(int id) {
        if (id < 0 || id >= vocab()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of the " + name()
                    + " tokenizer (ids 0 to " + (vocab() - 1) + ")");
        }
    }
}
