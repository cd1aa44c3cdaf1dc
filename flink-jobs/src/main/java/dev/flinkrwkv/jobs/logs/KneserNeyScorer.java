package dev.flinkrwkv.jobs.logs;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A byte n-gram model with interpolated Kneser-Ney smoothing (Chen and Goodman, 1998), fitted to the training
 * lines and frozen; a line's score is its mean surprisal in bits per byte, the line end included. Each line
 * is a sequence of its own, after {@code order - 1} line ends, so its score does not depend on its neighbours.
 *
 * <p>{@code P(c|h) = max(N(hc) - D, 0) / N(h.) + D T(h) / N(h.) P(c|h')}, where {@code h'} is {@code h}
 * without its oldest byte and the recursion ends in the uniform distribution over 256 bytes. At the highest
 * order {@code N} counts occurrences; below it, continuation counts (how many distinct bytes precede the
 * n-gram), which is what makes it Kneser-Ney: a byte seen after many contexts is likely in a new one. {@code
 * T(h)} is the number of distinct bytes that follow {@code h}; {@code D = n1 / (n1 + 2 n2)} per order, from
 * the numbers of n-grams counted once and twice.
 *
 * <p>The order (3 to 6) is chosen on the training lines alone: fitted to their first 90%, the order with the
 * lowest bits per byte on the last 10% wins, and the model is then fitted to all of them.
 */
public final class KneserNeyScorer implements TrainedScorer {
    static final int MIN_ORDER = 3;
    static final int MAX_ORDER = 6;
    private static final double LOG2E = 1.0 / Math.log(2);
    private static final int PAD = '\n';

    private final int fixedOrder;
    private Model model;

    /** The order chosen in training. */
    public KneserNeyScorer() {
        this(0);
    }

    /** A fixed order, 1 to 7; 0 to choose it in training. */
    public KneserNeyScorer(int order) {
        if (order != 0 && (order < 1 || order > 7)) {
            throw new IllegalArgumentException("the n-gram order must be 1 to 7, got " + order);
        }
        this.fixedOrder = order;
    }

    @Override
    public String name() {
        return model == null ? "kn-ngram" : "kn-ngram(" + model.order + ")";
    }

    /** The order in use (after {@link #train}). */
    public int order() {
        return model.order;
    }

    @Override
    public void train(List<byte[]> lines) {
        int order = fixedOrder;
        if (order == 0) {
            order = 5;
            int held = lines.size() / 10;
            if (held > 0) {
                List<byte[]> fit = lines.subList(0, lines.size() - held);
                List<byte[]> check = lines.subList(lines.size() - held, lines.size());
                double best = Double.POSITIVE_INFINITY;
                for (int n = MIN_ORDER; n <= MAX_ORDER; n++) {
                    double bits = new Model(n, fit).bitsPerByte(check);
                    if (bits < best) {
                        best = bits;
                        order = n;
                    }
                }
            }
        }
        model = new Model(order, lines);
    }

    @Override
    public double score(byte[] line) {
        return model.lineBits(line) / (line.length + 1);
    }

    /** The fitted counts of one order. */
    static final class Model {
        final int order;
        /** Per n-gram length L (1..order): the n-gram (newest byte lowest) to its count or continuation count. */
        private final Map<Long, Integer>[] counts;
        /** Per length L: the context (L-1 bytes) to {total count after it, distinct bytes after it}. */
        private final Map<Long, int[]>[] contexts;
        private final double[] discount;

        @SuppressWarnings("unchecked")
        Model(int order, List<byte[]> lines) {
            this.order = order;
            Map<Long, Integer>[] raw = new Map[order + 1];
            for (int l = 1; l <= order; l++) {
                raw[l] = new HashMap<>();
            }
            for (byte[] line : lines) {
                long history = padding(order);
                for (int t = 0; t <= line.length; t++) {
                    int c = t < line.length ? line[t] & 0xFF : '\n';
                    history = (history << 8) | c;
                    for (int l = 1; l <= order; l++) {
                        raw[l].merge(history & mask(l), 1, Integer::sum);
                    }
                }
            }
            counts = new Map[order + 1];
            counts[order] = raw[order];
            for (int l = order - 1; l >= 1; l--) {
                Map<Long, Integer> cont = new HashMap<>();
                for (long gram : raw[l + 1].keySet()) {
                    cont.merge(gram & mask(l), 1, Integer::sum);
                }
                counts[l] = cont;
            }
            contexts = new Map[order + 1];
            discount = new double[order + 1];
            for (int l = 1; l <= order; l++) {
                Map<Long, int[]> ctx = new HashMap<>();
                long n1 = 0;
                long n2 = 0;
                for (Map.Entry<Long, Integer> e : counts[l].entrySet()) {
                    int[] t = ctx.computeIfAbsent(e.getKey() >>> 8, k -> new int[2]);
                    t[0] += e.getValue();
                    t[1]++;
                    n1 += e.getValue() == 1 ? 1 : 0;
                    n2 += e.getValue() == 2 ? 1 : 0;
                }
                contexts[l] = ctx;
                discount[l] = n1 + n2 == 0 ? 0.5 : Math.min(0.95, Math.max(0.05, n1 / (n1 + 2.0 * n2)));
            }
        }

        double probability(long history, int c) {
            double p = 1.0 / 256;
            for (int l = 1; l <= order; l++) {
                long h = history & mask(l - 1);
                int[] t = contexts[l].get(h);
                if (t == null) {
                    break;  // no longer context was seen either
                }
                int n = counts[l].getOrDefault((h << 8) | c, 0);
                double d = discount[l];
                p = (Math.max(n - d, 0) + d * t[1] * p) / t[0];
            }
            return p;
        }

        /** The line's surprisal in bits, its end included. */
        double lineBits(byte[] line) {
            long history = padding(order);
            double bits = 0;
            for (int t = 0; t <= line.length; t++) {
                int c = t < line.length ? line[t] & 0xFF : '\n';
                bits -= Math.log(probability(history, c)) * LOG2E;
                history = (history << 8) | c;
            }
            return bits;
        }

        double bitsPerByte(List<byte[]> lines) {
            double bits = 0;
            long bytes = 0;
            for (byte[] line : lines) {
                bits += lineBits(line);
                bytes += line.length + 1;
            }
            return bits / bytes;
        }

        private static long padding(int order) {
            long h = 0;
            for (int i = 0; i < order - 1; i++) {
                h = (h << 8) | PAD;
            }
            return h;
        }

        private static long mask(int bytes) {
            return bytes == 0 ? 0 : bytes >= 8 ? -1L : (1L << (8 * bytes)) - 1;
        }
    }
}
