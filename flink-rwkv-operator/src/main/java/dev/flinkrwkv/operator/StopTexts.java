package dev.flinkrwkv.operator;

import dev.flinkrwkv.tokenize.Tokenizer;

import java.util.List;

/**
 * Checks, after each generated token, whether the generated text now contains one of the stop texts
 * ({@link GenerateOptions#stopAtText}). Only an occurrence that ends within the last token's bytes is new (an
 * earlier one would have stopped generation already), so only the last token and the tokens before it that
 * cover the longest stop text's length are decoded, into a buffer reused from token to token.
 *
 * <p>Not thread-safe; one per operator instance.
 */
final class StopTexts {
    private final Tokenizer tokenizer;
    private final byte[][] stops;
    private final int longest;
    private byte[] window = new byte[64];

    StopTexts(Tokenizer tokenizer, List<byte[]> stops) {
        this.tokenizer = tokenizer;
        this.stops = stops.toArray(new byte[0][]);
        int l = 0;
        for (byte[] s : this.stops) {
            l = Math.max(l, s.length);
        }
        this.longest = l;
    }

    boolean isEmpty() {
        return stops.length == 0;
    }

    /** Whether the bytes of {@code tokens[0..n)} contain a stop text ending within the bytes of token n-1. */
    boolean endsWithin(int[] tokens, int n) {
        int last = tokenizer.tokenLength(tokens[n - 1]);
        if (last == 0) {
            return false;
        }
        int need = last + longest - 1;
        int from = n - 1;
        int total = last;
        while (total < need && from > 0) {
            total += tokenizer.tokenLength(tokens[--from]);
        }
        if (window.length < total) {
            window = new byte[Math.max(total, 2 * window.length)];
        }
        int at = 0;
        for (int i = from; i < n; i++) {
            at += tokenizer.tokenBytes(tokens[i], window, at);
        }
        for (byte[] s : stops) {
            int start = Math.max(0, total - last - s.length + 1);
            if (indexOf(window, total, s, start) >= 0) {
                return true;
            }
        }
        return false;
    }

    /** The first index at or after {@code from} where {@code s} occurs in {@code b[0..len)}, or -1. */
    static int indexOf(byte[] b, int len, byte[] s, int from) {
        outer:
        for (int i = from; i + s.length <= len; i++) {
            for (int j = 0; j < s.length; j++) {
                if (b[i + j] != s[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
