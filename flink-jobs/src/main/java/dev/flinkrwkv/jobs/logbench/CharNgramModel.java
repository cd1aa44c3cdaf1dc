package dev.flinkrwkv.jobs.logbench;

import java.util.HashMap;
import java.util.Map;

/**
 * A byte n-gram model with Witten-Bell interpolation: {@code P_k(c|h) = (n(h,c) + u(h) P_{k-1}(c|h'))
 * / (n(h) + u(h))}, where h' drops the oldest byte of h, u(h) is the number of distinct bytes seen after h,
 * and order 0 backs off to uniform over 256 bytes. The simple strong baseline of language-model anomaly
 * scoring.
 */
public final class CharNgramModel {
    private final int order;
    /** Context (packed bytes, with its length) to counts of the next byte. */
    private final Map<Long, int[]> counts = new HashMap<>();
    private final Map<Long, int[]> totals = new HashMap<>(); // [n(h), u(h)]

    public CharNgramModel(int order, byte[] text) {
        if (order < 0 || order > 7) {
            throw new IllegalArgumentException("n-gram order must be in [0, 7]");
        }
        this.order = order;
        for (int i = 0; i < text.length; i++) {
            for (int k = 0; k <= Math.min(order, i); k++) {
                long key = context(text, i, k);
                int[] c = counts.computeIfAbsent(key, x -> new int[256]);
                int[] t = totals.computeIfAbsent(key, x -> new int[2]);
                int b = text[i] & 0xFF;
                if (c[b]++ == 0) {
                    t[1]++;
                }
                t[0]++;
            }
        }
    }

    /** The k bytes before position i, packed with k so that contexts of different lengths never collide. */
    private static long context(byte[] text, int i, int k) {
        long key = k;
        for (int j = 1; j <= k; j++) {
            key = (key << 8) | (text[i - j] & 0xFF);
        }
        return key;
    }

    /** {@code -log2 P(text[i] | the bytes before it)}. */
    public double surprisalBits(byte[] text, int i) {
        int b = text[i] & 0xFF;
        double p = 1.0 / 256;
        for (int k = 0; k <= Math.min(order, i); k++) {
            long key = context(text, i, k);
            int[] t = totals.get(key);
            if (t == null) {
                break;
            }
            int n = counts.get(key)[b];
            p = (n + t[1] * p) / (t[0] + t[1]);
        }
        return -Math.log(p) / Math.log(2);
    }
}
