package dev.flinkrwkv.jobs.logs;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * A byte n-gram baseline: the probability of each byte given the previous {@code order - 1} bytes of the
 * key's stream (lines joined by {@code \n}), with Witten-Bell interpolation down to a uniform distribution
 * over 256 bytes:
 * {@code P(c|h) = (C(h c) + T(h) P(c|h')) / (C(h) + T(h))}, where {@code C} counts, {@code T(h)} is the
 * number of distinct bytes seen after {@code h}, and {@code h'} is {@code h} without its oldest byte (a
 * context never seen falls back to {@code h'} entirely). Counts are updated after each byte is scored, so the
 * model learns online from everything before the current byte.
 *
 * <p>Why online counts rather than a model fitted once to the label-filtered training lines (the former
 * {@code bench-logs} variant, otherwise the same Witten-Bell estimator): a live detector has no labels, so
 * learning from the stream as it comes is the baseline a deployed RWKV detector must beat; it is the
 * protocol the other scorers follow ({@link LineScorer}), per key, and it needs no separate training pass.
 * The counts are keyed by context and byte in hash maps, so memory grows with the distinct n-grams, which
 * in logs stay few.
 */
public final class NgramLineScorer implements LineScorer {
    public static final int DEFAULT_ORDER = 4;
    private static final double LOG2E = 1.0 / Math.log(2);
    private final int order;

    public NgramLineScorer(int order) {
        if (order < 1 || order > 7) {
            throw new IllegalArgumentException("the n-gram order must be 1 to 7, got " + order);
        }
        this.order = order;
    }

    @Override
    public String name() {
        return "ngram-online";
    }

    @Override
    public LineSurprisal[] score(List<byte[]> lines, IntConsumer progress) {
        Counts counts = new Counts(order);
        long history = '\n';  // the last order-1 bytes, newest in the low byte; the stream starts after a line end
        int historyLen = 1;
        double[] bits = new double[0];
        LineSurprisal[] out = new LineSurprisal[lines.size()];
        for (int i = 0; i < out.length; i++) {
            byte[] line = lines.get(i);
            if (bits.length < line.length) {
                bits = new double[Math.max(line.length, bits.length * 2)];
            }
            for (int t = 0; t <= line.length; t++) {
                int c = t < line.length ? line[t] & 0xFF : '\n';
                if (t < line.length) {
                    bits[t] = -Math.log(counts.probability(history, historyLen, c)) * LOG2E;
                }
                counts.add(history, historyLen, c);
                history = (history << 8) | c;
                historyLen = Math.min(historyLen + 1, order - 1);
            }
            out[i] = LineSurprisal.fromBits(bits, 0, line.length);
            progress.accept(i + 1);
        }
        return out;
    }

    /** Counts per context length 0 .. order-1; a context of length k is the low k bytes of the history. */
    static final class Counts {
        private final int order;
        private final Map<Long, int[]> contexts = new HashMap<>(); // context -> {C(h), T(h)}
        private final Map<Long, Integer> joint = new HashMap<>();  // (context, byte) -> C(h c)

        Counts(int order) {
            this.order = order;
        }

        /** Bits 56-63: the length k (at most 6), bits 0-47: the k bytes; bits 48-55 stay free for the next byte. */
        private static long contextKey(long history, int k) {
            long mask = k == 0 ? 0 : (1L << (8 * k)) - 1;
            return ((long) k << 56) | (history & mask);
        }

        private static long jointKey(long context, int c) {
            return context | ((long) c << 48);
        }

        double probability(long history, int historyLen, int c) {
            double p = 1.0 / 256;
            int maxK = Math.min(historyLen, order - 1);
            for (int k = 0; k <= maxK; k++) {
                long ctx = contextKey(history, k);
                int[] ct = contexts.get(ctx);
                if (ct == null) {
                    break;  // no longer context has been seen either
                }
                int cc = joint.getOrDefault(jointKey(ctx, c), 0);
                p = (cc + ct[1] * p) / (ct[0] + ct[1]);
            }
            return p;
        }

        void add(long history, int historyLen, int c) {
            int maxK = Math.min(historyLen, order - 1);
            for (int k = 0; k <= maxK; k++) {
                long ctx = contextKey(history, k);
                int[] ct = contexts.computeIfAbsent(ctx, x -> new int[2]);
                long j = jointKey(ctx, c);
                int prev = joint.getOrDefault(j, 0);
                if (prev == 0) {
                    ct[1]++;
                }
                ct[0]++;
                joint.put(j, prev + 1);
            }
        }
    }
}
