package dev.flinkrwkv.sample;

/**
 * Chooses the next token from logits as {@link SamplerOptions} say, drawing from a {@link SplitMix64}.
 *
 * <p><b>Deterministic.</b> The token is a function of the logits, the options and the generator's state
 * only: candidates are ordered by probability with ties broken by the lower token id (a total order, so the
 * sort algorithm cannot matter), probabilities use {@link StrictMath#exp} (the same bits on every JVM), and
 * exactly one number is drawn per sampled token (none when greedy). That is what lets a replay after a
 * failure generate the same text.
 *
 * <p><b>Allocation-free</b> after the first call for a vocabulary size: candidate ids and weights live in
 * arrays kept between calls. Greedy is one pass; top-k keeps a bounded min-heap (O(V log k)); top-p without
 * top-k sorts the whole vocabulary (a heap sort, O(V log V)). Not thread-safe: one per thread.
 */
public final class Sampler {
    private final SamplerOptions options;
    private int[] ids = new int[0];
    private double[] weights = new double[0];

    public Sampler(SamplerOptions options) {
        this.options = options;
    }

    public SamplerOptions options() {
        return options;
    }

    /** The next token from the {@code vocab} logits at {@code off}. */
    public int sample(float[] logits, int off, int vocab, SplitMix64 rng) {
        if (options.isGreedy()) {
            return argmax(logits, off, vocab);
        }
        ensure(vocab);
        int n;
        if (options.topK() > 0 && options.topK() < vocab) {
            n = topK(logits, off, vocab, options.topK());
        } else {
            n = vocab;
            for (int t = 0; t < vocab; t++) {
                ids[t] = t;
            }
        }
        boolean nucleus = options.topP() < 1;
        if (nucleus) {
            sortByLogit(logits, off, n); // most likely first
        }
        // weights relative to the largest logit, so the largest is exp(0) = 1 and nothing overflows
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[off + ids[i]]);
        }
        double invT = 1.0 / options.temperature();
        double total = 0;
        for (int i = 0; i < n; i++) {
            double w = StrictMath.exp((logits[off + ids[i]] - max) * invT);
            weights[i] = w;
            total += w;
        }
        if (nucleus) {
            double need = options.topP() * total;
            double sum = 0;
            int kept = 0;
            while (kept < n && sum < need) {
                sum += weights[kept++];
            }
            n = Math.max(kept, 1);
            total = sum > 0 ? sum : weights[0];
        }
        double u = rng.nextDouble() * total;
        double acc = 0;
        for (int i = 0; i < n; i++) {
            acc += weights[i];
            if (u < acc) {
                return ids[i];
            }
        }
        // rounding can leave u just above the running sum: the last candidate with any weight
        for (int i = n - 1; i > 0; i--) {
            if (weights[i] > 0) {
                return ids[i];
            }
        }
        return ids[0];
    }

    /** The most likely token; the lowest id among equal logits. */
    public static int argmax(float[] logits, int off, int vocab) {
        int best = 0;
        float bestValue = logits[off];
        for (int t = 1; t < vocab; t++) {
            if (logits[off + t] > bestValue) {
                bestValue = logits[off + t];
                best = t;
            }
        }
        return best;
    }

    /** True when token a ranks before token b: larger logit, then lower id. */
    private static boolean before(float[] logits, int off, int a, int b) {
        float la = logits[off + a];
        float lb = logits[off + b];
        return la > lb || (la == lb && a < b);
    }

    /** Puts the k best tokens into ids[0..k) (unordered), via a min-heap whose root is the worst kept. */
    private int topK(float[] logits, int off, int vocab, int k) {
        for (int t = 0; t < k; t++) {
            ids[t] = t;
            siftUp(logits, off, t);
        }
        for (int t = k; t < vocab; t++) {
            if (before(logits, off, t, ids[0])) {
                ids[0] = t;
                siftDown(logits, off, 0, k);
            }
        }
        return k;
    }

    /** Min-heap on "rank": the root is the candidate that ranks last. */
    private void siftUp(float[] logits, int off, int i) {
        int x = ids[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!before(logits, off, ids[parent], x)) {
                break;
            }
            ids[i] = ids[parent];
            i = parent;
        }
        ids[i] = x;
    }

    private void siftDown(float[] logits, int off, int i, int n) {
        int x = ids[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= n) {
                break;
            }
            if (child + 1 < n && before(logits, off, ids[child], ids[child + 1])) {
                child++;
            }
            if (!before(logits, off, x, ids[child])) {
                break;
            }
            ids[i] = ids[child];
            i = child;
        }
        ids[i] = x;
    }

    /** Sorts ids[0..n) most likely first: heap sort with the last-ranking candidate at the root. */
    private void sortByLogit(float[] logits, int off, int n) {
        for (int i = n / 2 - 1; i >= 0; i--) {
            siftDown(logits, off, i, n);
        }
        for (int end = n - 1; end > 0; end--) {
            int worst = ids[0];
            ids[0] = ids[end];
            ids[end] = worst;
            siftDown(logits, off, 0, end);
        }
    }

    private void ensure(int vocab) {
        if (ids.length < vocab) {
            ids = new int[vocab];
            weights = new double[vocab];
        }
    }
}
