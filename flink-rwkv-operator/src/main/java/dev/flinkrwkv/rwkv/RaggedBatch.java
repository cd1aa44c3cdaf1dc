package dev.flinkrwkv.rwkv;

import java.util.Arrays;

/**
 * The input and outputs of one {@link RwkvEvaluator#step(RaggedBatch)}: B keys, each with its own state and
 * its own run of tokens (T_1 .. T_B rows, any lengths). Every row feeds one token to its key's state; the
 * rows of a key are applied in the order they were added.
 *
 * <p>Per row, optionally:
 * <ul>
 *   <li>a <em>target</em>: the natural log-probability of that token given the key's state after the row
 *       ({@link #logProb(int)});
 *   <li>the logits after the row ({@link #wantLogits()}: a slot s, whose {@code vocab} logits are at
 *       {@code s * vocab} in {@link #logits()}), for top-k, sampling or a caller that wants them all;
 *   <li>a <em>record end</em> ({@link #endRecord()}): with a {@link Rounding} set, the key's state is rounded
 *       (to its stored precision) right after the row, as if it had been stored and read back there, before
 *       the key's next row reads it.
 * </ul>
 * The head, the largest matrix, runs only over rows that have a target or want their logits.
 *
 * <p>Reusable: {@link #clear()} and fill it again; the arrays grow to the largest batch and are then reused,
 * so a warm batch allocates nothing.
 */
public final class RaggedBatch {
    /** A row without a target. */
    public static final int NO_TARGET = -1;

    /** Rounds values {@code [from, to)} of a key's state in place. */
    @FunctionalInterface
    public interface Rounding {
        void round(float[] state, int from, int to);
    }

    RwkvState[] states = new RwkvState[8];
    /** Key k's rows are {@code [k == 0 ? 0 : keyEnd[k-1], keyEnd[k])}. */
    int[] keyEnd = new int[8];
    int keys;
    int[] tokens = new int[64];
    int[] targets = new int[64];
    /** Per row: its logits' slot, or -1. Slots are given in row order. */
    int[] logitSlot = new int[64];
    boolean[] roundAfter = new boolean[64];
    int rows;
    int slots;
    double[] logProbs = new double[64];
    float[] logits = new float[0];
    /** Whether {@link #logits} is the caller's ({@link RwkvEvaluator#stepBatch}) rather than grown here. */
    boolean callerLogits;
    Rounding rounding;
    /** {@link #stepBySequences}' logits of one run. */
    private float[] everyLogits = new float[0];
    private float[] lastLogits = new float[0];

    /** Empties the batch (the rounding stays). */
    public RaggedBatch clear() {
        Arrays.fill(states, 0, keys, null);
        keys = 0;
        rows = 0;
        slots = 0;
        return this;
    }

    /** What {@link #endRecord()} does to a key's state (null: nothing, the default). */
    public RaggedBatch rounding(Rounding r) {
        this.rounding = r;
        return this;
    }

    /** Starts a key: the rows added next advance {@code state}. A key without rows is dropped. */
    public void addKey(RwkvState state) {
        if (keys > 0 && keyStart(keys - 1) == rows) {
            keys--; // the previous key got no rows
        }
        if (keys == states.length) {
            states = Arrays.copyOf(states, keys * 2);
            keyEnd = Arrays.copyOf(keyEnd, keys * 2);
        }
        states[keys] = state;
        keyEnd[keys] = rows;
        keys++;
    }

    /** Adds a row to the current key: feed {@code token}; {@code target} is scored unless {@link #NO_TARGET}. */
    public void addRow(int token, int target) {
        if (keys == 0) {
            throw new IllegalStateException("addKey before addRow");
        }
        if (rows == tokens.length) {
            int n = rows * 2;
            tokens = Arrays.copyOf(tokens, n);
            targets = Arrays.copyOf(targets, n);
            logitSlot = Arrays.copyOf(logitSlot, n);
            roundAfter = Arrays.copyOf(roundAfter, n);
            logProbs = Arrays.copyOf(logProbs, n);
        }
        tokens[rows] = token;
        targets[rows] = target;
        logitSlot[rows] = -1;
        roundAfter[rows] = false;
        rows++;
        keyEnd[keys - 1] = rows;
    }

    /** The logits after the last row added are wanted; returns their slot (at {@code slot * vocab} in {@link #logits()}). */
    public int wantLogits() {
        int r = lastRow();
        if (logitSlot[r] < 0) {
            logitSlot[r] = slots++;
        }
        return logitSlot[r];
    }

    /** A record ends after the last row added: with a {@link Rounding}, the key's state is rounded there. */
    public void endRecord() {
        roundAfter[lastRow()] = true;
    }

    private int lastRow() {
        if (keys == 0 || keyStart(keys - 1) == rows) {
            throw new IllegalStateException("the current key has no row yet");
        }
        return rows - 1;
    }

    /** Whether the current key has a row yet. */
    public boolean keyHasRows() {
        return keys > 0 && keyStart(keys - 1) < rows;
    }

    int keyStart(int k) {
        return k == 0 ? 0 : keyEnd[k - 1];
    }

    /** Rows added so far (the index of the next row). */
    public int rows() {
        return rows;
    }

    public int keys() {
        return keys;
    }

    /** After the step: row {@code row}'s log-probability of its target (NaN for a row without one). */
    public double logProb(int row) {
        return targets[row] == NO_TARGET ? Double.NaN : logProbs[row];
    }

    /** After the step: the logits, {@code vocab} floats per slot, slot s at {@code s * vocab}. */
    public float[] logits() {
        return logits;
    }

    /** One key's run of tokens in order, as a backend's sequence mode takes it (see {@link #stepBySequences}). */
    @FunctionalInterface
    public interface SequenceStep {
        /**
         * Advances {@code state} by {@code tokens[offset .. offset + count)}; {@code logits}: null for none,
         * {@code count * vocab} floats for the logits after every token, {@code vocab} floats for the last's.
         */
        void step(RwkvState state, int[] tokens, int offset, int count, float[] logits);
    }

    /**
     * Evaluates the batch through a sequence mode, key by key, for a backend that has no ragged pass: each
     * key's rows go in runs that end at each record end (where the state is rounded, as {@link RwkvEvaluator#step}
     * does between rows) and hold at most {@code maxRowsPerRun} rows; log-probabilities are taken from the
     * logits on the host, as the CPU evaluator takes them. So a record's runs are the same whatever else is in
     * the batch: a backend whose sums depend on the rows in a pass (a GPU's kernels) still gives a record the
     * same bits however the records were batched, which keeps replays exact. Results equal a ragged pass up to
     * the sequence mode's own rounding; the weights are read once per run instead of once per pass.
     */
    public void stepBySequences(int vocab, int maxRowsPerRun, SequenceStep sequence) {
        for (int r = 0; r < rows; r++) {
            if (targets[r] != NO_TARGET && (targets[r] < 0 || targets[r] >= vocab)) {
                throw new IllegalArgumentException("target " + targets[r] + " outside the vocabulary [0, " + vocab + ")");
            }
        }
        float[] out = slots > 0 ? logitsFor(vocab) : null;
        if (out != null && out.length < (long) slots * vocab) {
            throw new IllegalArgumentException("logits buffer of " + out.length + " floats, need " + (long) slots * vocab);
        }
        int perRun = Math.max(1, maxRowsPerRun);
        for (int k = 0; k < keys; k++) {
            RwkvState state = states[k];
            int from = keyStart(k);
            while (from < keyEnd[k]) {
                int to = Math.min(keyEnd[k], from + perRun);
                for (int r = from; r < to; r++) {
                    if (roundAfter[r]) {
                        to = r + 1;
                        break;
                    }
                }
                boolean every = false, last = false;
                for (int r = from; r < to; r++) {
                    boolean wanted = targets[r] != NO_TARGET || logitSlot[r] >= 0;
                    every |= wanted && r < to - 1;
                    last |= wanted && r == to - 1;
                }
                float[] runLogits = every ? everyLogits((long) (to - from) * vocab) : last ? lastLogits(vocab) : null;
                sequence.step(state, tokens, from, to - from, runLogits);
                for (int r = from; r < to; r++) {
                    int at = every ? (r - from) * vocab : 0;
                    if (runLogits == null || !every && r < to - 1) {
                        continue;
                    }
                    if (targets[r] != NO_TARGET) {
                        logProbs[r] = LogProbs.of(runLogits, at, vocab, targets[r]);
                    }
                    if (logitSlot[r] >= 0) {
                        System.arraycopy(runLogits, at, out, logitSlot[r] * vocab, vocab);
                    }
                }
                if (roundAfter[to - 1] && rounding != null) {
                    float[] s = state.data();
                    rounding.round(s, 0, s.length);
                }
                from = to;
            }
        }
    }

    /** Scratch for the logits after every row of a run: at least {@code n} floats. */
    private float[] everyLogits(long n) {
        if (everyLogits.length < n) {
            everyLogits = new float[Math.toIntExact(n)];
        }
        return everyLogits;
    }

    /** Scratch for the logits after a run's last row: exactly {@code vocab} floats, which asks for the last only. */
    private float[] lastLogits(int vocab) {
        if (lastLogits.length != vocab) {
            lastLogits = new float[vocab];
        }
        return lastLogits;
    }

    /** The logits buffer, grown here to the slots asked for (unless the caller provided it). */
    float[] logitsFor(int vocab) {
        long need = (long) slots * vocab;
        if (!callerLogits && logits.length < need) {
            logits = new float[Math.toIntExact(Math.max(need, Math.min(Integer.MAX_VALUE - 8, 2L * logits.length)))];
        }
        return logits;
    }
}
