package dev.flinkrwkv.tokenize;

import java.util.Arrays;

/**
 * Turns generated token ids into text one token at a time. A token may end inside a UTF-8 character (World and
 * 20B both split rare characters and emoji over several tokens), so the decoder holds back the bytes of a
 * character still incomplete and emits it whole once its last byte arrives: the text emitted never holds a
 * broken character and never loses one.
 *
 * <p>Invalid bytes become U+FFFD as soon as they are known to be invalid, one U+FFFD for each maximal subpart of
 * an ill-formed sequence, as the Unicode standard recommends and the WHATWG encoding standard, Rust and Python
 * do (Java's own decoder differs only for an encoded surrogate, ED A0..BF xx, which it replaces by one U+FFFD
 * where this gives three): a byte that cannot start a character at once, a started sequence when a byte arrives
 * that cannot continue it (that byte is then read afresh). Bytes still held at {@link #finish} become one
 * U+FFFD. The text emitted does not depend on how the bytes are split into tokens: everything emitted for a
 * sequence of ids, {@code finish} included, is {@link Tokenizer#decode} of those ids.
 *
 * <p>One decoder per stream of tokens; not thread-safe. At most 3 bytes are held ({@link #pending}), which a
 * job can keep in its state and give back with {@link #restore}.
 */
public final class StreamingDecoder {
    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    private byte[] buf = new byte[64];
    private int held;

    public StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Appends to {@code out} the text that token {@code id} completes.
     *
     * @throws IllegalArgumentException if {@code id} is outside the tokenizer's vocabulary
     */
    public void push(int id, StringBuilder out) {
        int n = tokenizer.tokenLength(id);
        if (held + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(held + n, 2 * buf.length));
        }
        tokenizer.tokenBytes(id, buf, held);
        decode(held + n, false, out);
    }

    /** The text that token {@code id} completes (often empty in the middle of a character). */
    public String push(int id) {
        StringBuilder b = new StringBuilder();
        push(id, b);
        return b.toString();
    }

    /** Ends the stream: appends a U+FFFD for bytes still held (a character cut short), and starts afresh. */
    public void finish(StringBuilder out) {
        decode(held, true, out);
    }

    public String finish() {
        StringBuilder b = new StringBuilder();
        finish(b);
        return b.toString();
    }

    /** The bytes held back: the start of a character whose end has not come yet (at most 3). */
    public byte[] pending() {
        return Arrays.copyOf(buf, held);
    }

    /** Continues a stream whose {@link #pending} bytes were kept elsewhere (in a job's state). */
    public void restore(byte[] pending) {
        if (pending.length > 3) {
            throw new IllegalArgumentException("at most 3 bytes are pending in a UTF-8 stream, got " + pending.length);
        }
        held = 0;
        StringBuilder none = new StringBuilder();
        System.arraycopy(pending, 0, buf, 0, pending.length);
        decode(pending.length, false, none);
        if (none.length() > 0 || held != pending.length) {
            held = 0;
            throw new IllegalArgumentException("the pending bytes are not the start of a UTF-8 character");
        }
    }

    /** Drops any held bytes. */
    public void reset() {
        held = 0;
    }

    /** Decodes buf[0, len) into out; keeps an incomplete last character unless {@code last}. */
    private void decode(int len, boolean last, StringBuilder out) {
        byte[] b = buf;
        int i = 0;
        while (i < len) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                out.append((char) c);
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) {
                need = 1;
            } else if (c >= 0xE0 && c <= 0xEF) {
                need = 2;
                if (c == 0xE0) {
                    lo = 0xA0;
                } else if (c == 0xED) {
                    hi = 0x9F; // no surrogates
                }
            } else if (c >= 0xF0 && c <= 0xF4) {
                need = 3;
                if (c == 0xF0) {
                    lo = 0x90;
                } else if (c == 0xF4) {
                    hi = 0x8F; // nothing past U+10FFFF
                }
            } else { // a continuation byte or a byte that never starts a character
                out.append(REPLACEMENT);
                i++;
                continue;
            }
            int cp = c & (0x3F >> need);
            int k = 1;
            for (; k <= need && i + k < len; k++) {
                int d = b[i + k] & 0xFF;
                if (d < lo || d > hi) {
                    break;
                }
                cp = cp << 6 | (d & 0x3F);
                lo = 0x80;
                hi = 0xBF;
            }
            if (k > need) {
                out.appendCodePoint(cp);
                i += k;
            } else if (i + k < len || last) { // a byte that cannot continue it, or the end of the stream
                out.append(REPLACEMENT);
                i += k;
            } else { // a valid start whose end is still to come
                break;
            }
        }
        held = len - i;
        if (held > 0 && i > 0) {
            System.arraycopy(b, i, b, 0, held);
        }
    }
}
