package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.math.MatMulThreads;
import dev.flinkrwkv.math.Matrix;
import dev.flinkrwkv.math.Ops;

import java.util.Arrays;

/**
 * Advances RWKV states and computes next-token logits. One evaluator has its own scratch buffers (and,
 * when made with several threads, its own matrix worker threads) and is not thread-safe; any number share
 * one {@link RwkvModel}.
 *
 * <p>Everything is one operation, {@link #step(RaggedBatch)}: a <em>ragged batch</em> of B keys, key i
 * with its own state and its own T_i tokens. It is evaluated over <em>rows</em> (row = one token of one
 * key) in passes of at most {@link #maxBatchTokens()} rows: in a pass the weights are read once for all
 * its rows (each projection is a matrix x matrix product over the rows), while the recurrent parts (token
 * shift, WKV) walk each key's rows in order, updating the key's state in place, and the keys run in parallel
 * over the evaluator's threads. A key may be cut across passes: its state carries the recurrence from one
 * pass to the next exactly as from one row to the next. {@link #stepBatch} (B keys, one token each),
 * {@link #stepSequence} (one key, T tokens) and {@link #step(RwkvState, int, float[])} are special cases.
 *
 * <p>A key's results (log-probs, logits, state) are a pure function of the model and its tokens in order:
 * the products give a row the same bits whatever the other rows ({@link dev.flinkrwkv.math.MatMulKernel}),
 * normalizations and recurrences are per row and per key, and a key's recurrence runs on one thread in row
 * order. So neither the batch's composition, nor the row cap, nor the thread count changes a bit.
 *
 * <p>The scratch buffers hold one pass (at most {@link #maxBatchTokens()} rows); after they have grown to the
 * largest pass seen, nothing is allocated.
 *
 * <p>The top level is the same for all versions (embedding, ln0, then per layer a time mix and a channel
 * mix added to the residual, ln_out, head); subclasses supply the time mix.
 */
public abstract class RwkvEvaluator implements AutoCloseable {
    /** Rows per pass unless the evaluator was made with another cap. */
    public static final int DEFAULT_MAX_BATCH_TOKENS = 256;
    /** Logits held at once when the head runs over many rows only for their log-probs: 8 MiB. */
    static final int HEAD_LOGIT_FLOATS = 1 << 21;

    protected final RwkvModel model;
    protected final int c;
    protected int capacity;
    private final int maxBatchTokens;
    private final MatMulThreads threads;

    // The pass in flight: row r (of the pass) advances rowStates[r] by tokens[passBase + r] of passBatch;
    // segments (a key's rows in the pass, or all rows when keys share a state) end before segmentEnds[s]
    // and run whole on one thread, in row order.
    private RwkvState[] rowStates = new RwkvState[0];
    private int[] segmentEnds = new int[0];
    private int segments;
    private RaggedBatch passBatch;
    private int passBase;
    private RaggedBatch.Rounding rounding;
    /** The token shift of one slot, made once and reused (the hot path allocates nothing). */
    private final ShiftTask shiftTask = new ShiftTask();
    /** A version's per-key work over key ranges, made once and reused. */
    private final KeyRangeTask keyRangeTask = new KeyRangeTask();

    // Shared scratch, each batch x C (or batch x F): residual stream, normalized input, previous token's
    // normalized input, two mixed inputs and a sub-block output.
    protected float[] x = new float[0];
    protected float[] xn = new float[0];
    protected float[] prev = new float[0];
    protected float[] sx = new float[0];
    protected float[] mixA = new float[0];
    protected float[] mixB = new float[0];
    protected float[] gate = new float[0];
    protected float[] out = new float[0];
    protected float[] hidden = new float[0];
    private float[] headLogits;
    private int[] headRows;

    /** The batch that {@link #stepBatch}, {@link #stepSequence} and single steps fill. */
    private final RaggedBatch own = new RaggedBatch();
    private final RwkvState[] oneState = new RwkvState[1];
    private final int[] oneToken = new int[1];

    protected RwkvEvaluator(RwkvModel model, int threads, int maxBatchTokens) {
        if (maxBatchTokens < 1) {
            throw new IllegalArgumentException("at most " + maxBatchTokens + " rows per pass; need at least 1");
        }
        this.model = model;
        this.c = model.embed;
        this.maxBatchTokens = maxBatchTokens;
        this.threads = new MatMulThreads(threads);
    }

    public RwkvModel model() {
        return model;
    }

    /** Threads each matrix product is split over. */
    public int threads() {
        return threads.threads();
    }

    /** The most rows (tokens) one pass over the weights evaluates; longer batches take several passes. */
    public int maxBatchTokens() {
        return maxBatchTokens;
    }

    /** Stops the matrix worker threads, if any; the evaluator must not be used afterwards. */
    @Override
    public void close() {
        threads.close();
    }

    /** One token for one state: updates {@code state} and writes the logits (vocab floats) unless null. */
    public float[] step(RwkvState state, int token, float[] logits) {
        oneState[0] = state;
        oneToken[0] = token;
        try {
            stepBatch(oneState, oneToken, 1, logits);
        } finally {
            oneState[0] = null;
        }
        return logits;
    }

    /**
     * One token for each of {@code batch} states: {@code states[b]} advances by {@code tokens[b]}, and its
     * logits go to {@code logits[b*vocab ..]} (no logits when {@code logits} is null, which skips the head).
     * The result for each state is that of {@link #step} on it alone. Should a state appear more than once,
     * its rows are applied in order, as consecutive tokens.
     */
    public void stepBatch(RwkvState[] states, int[] tokens, int batch, float[] logits) {
        if (batch < 1 || batch > states.length || batch > tokens.length) {
            throw new IllegalArgumentException("batch " + batch + " with " + states.length + " states and "
                    + tokens.length + " tokens");
        }
        checkLength("logits", logits, (long) batch * model.vocab);
        RaggedBatch b = own.clear();
        try {
            for (int i = 0; i < batch; i++) {
                b.addKey(states[i]);
                b.addRow(tokens[i], RaggedBatch.NO_TARGET);
                if (logits != null) {
                    b.wantLogits();
                }
            }
            runWithLogits(b, logits);
        } finally {
            own.clear();
        }
    }

    /**
     * Sequence mode: advances {@code state} by {@code tokens[off .. off+len)}, with the result of
     * {@code len} single {@link #step}s but the projections done as matrix products over the tokens.
     *
     * @param logProbs  unless null, receives {@code len - 1} values: at i, the natural log-probability of
     *                  {@code tokens[off+i+1]} given the state and {@code tokens[off .. off+i]} (what
     *                  {@link LogProbs#of} gives on the logits after token i)
     * @param lastLogits unless null, receives the logits after the last token (vocab floats)
     *
     * <p>The head, the largest matrix, runs only where asked: over all rows but the last for log-probs,
     * over the last row for the logits, not at all when both are null (prompt prefill).
     */
    public void stepSequence(RwkvState state, int[] tokens, int off, int len, float[] logProbs, float[] lastLogits) {
        if (len < 1 || off < 0 || off > tokens.length - len) {
            throw new IllegalArgumentException("tokens [" + off + ", " + off + "+" + len + ") of an array of "
                    + tokens.length);
        }
        checkLength("log-probs", logProbs, len - 1);
        checkLength("logits", lastLogits, model.vocab);
        for (int i = 0; i < len; i++) {
            checkToken(tokens[off + i]);
        }
        RaggedBatch b = own.clear();
        try {
            b.addKey(state);
            for (int i = 0; i < len; i++) {
                b.addRow(tokens[off + i], logProbs != null && i < len - 1 ? tokens[off + i + 1] : RaggedBatch.NO_TARGET);
            }
            if (lastLogits != null) {
                b.wantLogits();
            }
            runWithLogits(b, lastLogits);
            if (logProbs != null) {
                for (int i = 0; i < len - 1; i++) {
                    logProbs[i] = (float) b.logProbs[i];
                }
            }
        } finally {
            own.clear();
        }
    }

    /** {@link #step(RaggedBatch)} of this evaluator's own batch, its logits written to the caller's array. */
    private void runWithLogits(RaggedBatch b, float[] logits) {
        b.rounding = null;
        b.callerLogits = logits != null;
        b.logits = logits != null ? logits : EMPTY;
        try {
            step(b);
        } finally {
            b.callerLogits = false;
            b.logits = EMPTY;
        }
    }

    private static final float[] EMPTY = new float[0];

    /**
     * Evaluates a ragged batch: every key's state advances by its rows' tokens in order; each row with a
     * target gets its log-probability ({@link RaggedBatch#logProb}), each row that wants its logits gets
     * them ({@link RaggedBatch#logits()}), and at a record end the key's state is rounded by the batch's
     * {@link RaggedBatch.Rounding}. Keys should name distinct states; should two keys share one, their rows
     * are applied in batch order (as one key). All arguments are checked before any state changes.
     */
    public void step(RaggedBatch batch) {
        int rows = batch.rows;
        for (int k = 0; k < batch.keys; k++) {
            checkState(batch.states[k]);
        }
        for (int r = 0; r < rows; r++) {
            checkToken(batch.tokens[r]);
            if (batch.targets[r] != RaggedBatch.NO_TARGET) {
                checkToken(batch.targets[r]);
            }
        }
        float[] logits = batch.slots > 0 ? batch.logitsFor(model.vocab) : null;
        checkLength("logits", logits, (long) batch.slots * model.vocab);
        passBatch = batch;
        rounding = batch.rounding;
        try {
            int key = 0;
            for (int p0 = 0; p0 < rows; p0 += maxBatchTokens) {
                key = pass(batch, key, p0, Math.min(maxBatchTokens, rows - p0), logits);
            }
        } finally {
            passBatch = null;
            rounding = null;
            Arrays.fill(rowStates, null);
        }
    }

    /**
     * Rows {@code [p0, p0 + n)} of the batch, whose first key is {@code key}: the layers, then the head where
     * asked. Returns the key holding row {@code p0 + n} (the next pass's first).
     */
    private int pass(RaggedBatch batch, int key, int p0, int n, float[] logits) {
        ensureCapacity(n);
        passBase = p0;
        segments = 0;
        int end = p0 + n;
        while (key < batch.keys && batch.keyStart(key) < end) {
            RwkvState s = batch.states[key];
            int to = Math.min(batch.keyEnd[key], end);
            for (int r = Math.max(batch.keyStart(key), p0); r < to; r++) {
                rowStates[r - p0] = s;
            }
            segmentEnds[segments++] = to - p0;
            if (batch.keyEnd[key] > end) {
                break; // the key goes on in the next pass
            }
            key++;
        }
        if (!distinctSegments()) {
            segmentEnds[0] = n;
            segments = 1; // a state under several keys: all rows in batch order, on one thread
        }
        forward(batch.tokens, p0, n);
        head(batch, p0, n, logits);
        return key;
    }

    /**
     * Whether the pass's segments name distinct states: their float arrays, compared by identity (two
     * {@link RwkvState#wrap} of one array are one state). Pairwise, as a pass has at most a few hundred keys:
     * nothing next to a pass over the weights, and nothing allocated.
     */
    private boolean distinctSegments() {
        for (int i = 1; i < segments; i++) {
            float[] s = rowStates[segmentEnds[i - 1]].data();
            for (int j = 0; j < i; j++) {
                if (rowStates[j == 0 ? 0 : segmentEnds[j - 1]].data() == s) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * The head over the pass's rows that want it: rows that want their logits (whose slots follow each other
     * in row order) straight into the batch's logits, one product; rows that only have a target through a
     * scratch of logits, as many rows at a time as it holds. Then each target's log-probability.
     */
    private void head(RaggedBatch batch, int p0, int n, float[] logits) {
        int vocab = model.vocab;
        int wanted = 0, firstSlot = -1;
        for (int r = 0; r < n; r++) {
            int slot = batch.logitSlot[p0 + r];
            if (slot >= 0) {
                if (wanted == 0) {
                    firstSlot = slot;
                }
                Ops.layerNorm(x, r * c, c, model.lnOutW, model.lnOutB, xn, wanted * c);
                wanted++;
            }
        }
        if (wanted > 0) {
            mul(model.head, xn, 0, c, logits, firstSlot * vocab, vocab, wanted);
            for (int r = 0; r < n; r++) {
                int slot = batch.logitSlot[p0 + r], target = batch.targets[p0 + r];
                if (slot >= 0 && target != RaggedBatch.NO_TARGET) {
                    batch.logProbs[p0 + r] = LogProbs.of(logits, slot * vocab, vocab, target);
                }
            }
        }
        int perPass = Math.max(1, Math.min(maxBatchTokens, HEAD_LOGIT_FLOATS / vocab));
        int held = 0;
        for (int r = 0; r < n; r++) {
            if (batch.targets[p0 + r] != RaggedBatch.NO_TARGET && batch.logitSlot[p0 + r] < 0) {
                if (headLogits == null) {
                    headLogits = new float[perPass * vocab];
                    headRows = new int[perPass];
                }
                Ops.layerNorm(x, r * c, c, model.lnOutW, model.lnOutB, xn, held * c);
                headRows[held++] = p0 + r;
                if (held == perPass) {
                    logProbHead(batch, held);
                    held = 0;
                }
            }
        }
        if (held > 0) {
            logProbHead(batch, held);
        }
    }

    /** The head over the {@code held} normalized rows in {@link #xn}, and their targets' log-probabilities. */
    private void logProbHead(RaggedBatch batch, int held) {
        int vocab = model.vocab;
        mul(model.head, xn, 0, c, headLogits, 0, vocab, held);
        for (int i = 0; i < held; i++) {
            int row = headRows[i];
            batch.logProbs[row] = LogProbs.of(headLogits, i * vocab, vocab, batch.targets[row]);
        }
    }

    /**
     * The layers over the pass's {@code rows} rows: row r embeds {@code tokens[tOff + r]} and advances
     * {@code rowStates[r]}; the final residual stream is left in {@link #x}.
     */
    private void forward(int[] tokens, int tOff, int rows) {
        for (int b = 0; b < rows; b++) {
            model.emb.row(tokens[tOff + b], x, b * c);
            Ops.layerNorm(x, b * c, c, model.ln0W, model.ln0B, x, b * c);
        }
        for (int layer = 0; layer < model.layers; layer++) {
            timeMix(layer, rowStates, rows);
            channelMix(layer, rowStates, rows);
        }
    }

    /**
     * Runs the per-key work {@code task} over the pass's rows: split over this evaluator's threads by whole
     * keys (each key's rows on one thread, in row order, with the same code: the bits do not depend on the
     * thread count), or on the calling thread in row order when keys share a state.
     */
    protected final void forEachRow(int rows, MatMulThreads.RangeTask task) {
        threads.forEachSegment(segments, segmentEnds, task);
    }

    /** A version's per-key work in layer {@code layer} for the rows {@code [from, to)} (see {@link #forEachKey}). */
    @FunctionalInterface
    protected interface KeyTask {
        void run(int layer, RwkvState[] states, int from, int to);
    }

    /**
     * Runs a version's per-key work of layer {@code layer} over the pass's rows, as {@link #forEachRow}
     * splits them: {@code task} must read and write only the rows and states it is given, rows in order
     * (row b advances {@code states[b]}). Pass a task made once (a method reference held in a field), so
     * that the call allocates nothing. At a record end the layer's recurrent state (all but the token-shift
     * slots) is rounded before the key's next row.
     */
    protected final void forEachKey(int layer, RwkvState[] states, int batch, KeyTask task) {
        keyRangeTask.task = task;
        keyRangeTask.layer = layer;
        try {
            forEachRow(batch, keyRangeTask);
        } finally {
            keyRangeTask.task = null;
        }
    }

    /**
     * {@link #forEachKey}'s call, as the worker threads run it over key ranges: the version's task of one
     * layer, split at record ends, where the layer's recurrent state (all but the token-shift slots) is
     * rounded before the key's next row.
     */
    private final class KeyRangeTask implements MatMulThreads.RangeTask {
        KeyTask task;
        int layer;

        @Override
        public void run(int from, int to) {
            if (rounding == null) {
                task.run(layer, rowStates, from, to);
                return;
            }
            int start = from;
            for (int b = from; b < to; b++) {
                if (passBatch.roundAfter[passBase + b]) {
                    task.run(layer, rowStates, start, b + 1);
                    int at = layerOffset(layer) + 2 * c;
                    rounding.round(rowStates[b].data(), at, at + (model.stateVectorsPerLayer() - 2) * c);
                    start = b + 1;
                }
            }
            if (start < to) {
                task.run(layer, rowStates, start, to);
            }
        }
    }

    private void checkLength(String what, float[] buffer, long needed) {
        if (buffer != null && buffer.length < needed) {
            throw new IllegalArgumentException(what + " buffer of " + buffer.length + " floats, need " + needed);
        }
    }

    private void checkToken(int token) {
        if (token < 0 || token >= model.vocab) {
            throw new IllegalArgumentException("token " + token + " outside the vocabulary [0, " + model.vocab + ")");
        }
    }

    private void checkState(RwkvState state) {
        if (state.size() != model.stateSize()) {
            throw new IllegalArgumentException("state of " + state.size() + " floats, this model's has "
                    + model.stateSize());
        }
    }

    /** {@code result = w · in} for {@code rows} packed rows, split over this evaluator's threads. */
    protected final void mul(Matrix w, float[] in, float[] result, int rows) {
        threads.mul(w, in, 0, w.cols(), result, 0, w.rows(), rows);
    }

    /** {@link Matrix#mul(float[], int, int, float[], int, int, int)}, split over this evaluator's threads. */
    protected final void mul(Matrix w, float[] in, int inOff, int inStride, float[] result, int outOff,
                             int outStride, int rows) {
        threads.mul(w, in, inOff, inStride, result, outOff, outStride, rows);
    }

    /** Grows the scratch buffers to hold {@code batch} rows (never beyond the cap). */
    protected final void ensureCapacity(int batch) {
        if (batch > capacity) {
            capacity = Math.min(maxBatchTokens, Math.max(batch, capacity * 2));
            rowStates = new RwkvState[capacity];
            segmentEnds = new int[capacity];
            allocate(capacity);
        }
    }

    /** (Re)allocates every scratch buffer for {@code n} rows; subclasses add theirs and call super. */
    protected void allocate(int n) {
        int f = model.ffnSize();
        x = new float[n * c];
        xn = new float[n * c];
        prev = new float[n * c];
        sx = new float[n * c];
        mixA = new float[n * c];
        mixB = new float[n * c];
        gate = new float[n * c];
        out = new float[n * c];
        hidden = new float[n * Math.max(f, c)];
    }

    /** The version's time mix of layer {@code layer}: adds its output to {@link #x}. */
    protected abstract void timeMix(int layer, RwkvState[] states, int batch);

    /** Offset of layer {@code layer}'s part of the state. */
    protected final int layerOffset(int layer) {
        return layer * model.stateVectorsPerLayer() * c;
    }

    /**
     * Token shift into {@link #xn} and {@link #prev}: {@code xn = LN(x)}, {@code prev} = the slot's old
     * contents, and the slot (at {@code slot} in each state) then holds {@code xn}.
     */
    protected final void shift(RwkvState[] states, int batch, int slotInLayer, int layer, float[] lnW, float[] lnB) {
        shiftTask.at = layerOffset(layer) + slotInLayer;
        shiftTask.lnW = lnW;
        shiftTask.lnB = lnB;
        forEachRow(batch, shiftTask); // the layer norms are per key
    }

    /** The time mix's token shift of layer {@code layer} (every version): {@link #shift} of its slot. */
    protected final void timeMixShift(RwkvState[] states, int batch, int layer) {
        shift(states, batch, RwkvSpec.ATT_XX * c, layer, model.ln1W[layer], model.ln1B[layer]);
    }

    /**
     * The start of the v4 and v5 time mix: the token shift, lerped by the layer's {@code mixK}, {@code mixV},
     * {@code mixR} into the inputs of the key, value and receptance projections ({@link #mixA},
     * {@link #mixB}, {@code xr}), and the three projections into {@code r}, {@code k}, {@code v}.
     */
    protected final void lerpShiftProjections(int layer, RwkvState[] states, int batch, float[] mixK, float[] mixV,
                                              float[] mixR, float[] xr, float[] r, float[] k, float[] v) {
        timeMixShift(states, batch, layer);
        TokenShift.lerp(xn, prev, mixK, mixA, batch, c);
        TokenShift.lerp(xn, prev, mixV, mixB, batch, c);
        TokenShift.lerp(xn, prev, mixR, xr, batch, c);
        mul(model.receptance[layer], xr, r, batch);
        mul(model.key[layer], mixA, k, batch);
        mul(model.value[layer], mixB, v, batch);
    }

    /**
     * {@link #shift} of one slot (at {@code at} in a state, layer-normed by {@code lnW}, {@code lnB}) as the
     * worker threads run it over key ranges: in row order, so a key's row reads the one before, rounded at a
     * record end.
     */
    private final class ShiftTask implements MatMulThreads.RangeTask {
        int at;
        float[] lnW, lnB;

        @Override
        public void run(int from, int to) {
            RwkvState[] states = rowStates;
            for (int b = from; b < to; b++) {
                float[] s = states[b].data();
                Ops.layerNorm(x, b * c, c, lnW, lnB, xn, b * c);
                System.arraycopy(s, at, prev, b * c, c);
                System.arraycopy(xn, b * c, s, at, c);
                if (rounding != null && passBatch.roundAfter[passBase + b]) {
                    rounding.round(s, at, at + c);
                }
            }
        }
    }

    /** Adds {@code batch * C} values of {@code delta} to the residual stream. */
    protected final void addToResidual(float[] delta, int batch) {
        for (int i = 0, n = batch * c; i < n; i++) {
            x[i] += delta[i];
        }
    }

    /** The channel mix of layer {@code layer}, shared by every version (see {@link ChannelMix}). */
    protected final void channelMix(int layer, RwkvState[] states, int batch) {
        ChannelMix m = model.channelMix[layer];
        shift(states, batch, RwkvSpec.FFN_XX * c, layer, m.lnW, m.lnB);
        float[] xk = mixA;
        float[] xr = mixB;
        if (m.lerpShift) {
            TokenShift.lerp(xn, prev, m.mixK, xk, batch, c);
            if (m.mixR != null) {
                TokenShift.lerp(xn, prev, m.mixR, xr, batch, c);
            }
        } else {
            TokenShift.delta(xn, prev, sx, batch, c);
            TokenShift.add(xn, sx, m.mixK, xk, batch, c);
            if (m.mixR != null) {
                TokenShift.add(xn, sx, m.mixR, xr, batch, c);
            }
        }
        int f = m.key.rows();
        mul(m.key, xk, 0, c, hidden, 0, f, batch);
        for (int i = 0, n = batch * f; i < n; i++) {
            hidden[i] = Ops.squaredRelu(hidden[i]);
        }
        mul(m.value, hidden, 0, f, out, 0, c, batch);
        if (m.receptance != null) {
            mul(m.receptance, xr, 0, c, gate, 0, c, batch);
            for (int i = 0, n = batch * c; i < n; i++) {
                out[i] = Ops.sigmoid(gate[i]) * out[i];
            }
        }
        addToResidual(out, batch);
    }
}
