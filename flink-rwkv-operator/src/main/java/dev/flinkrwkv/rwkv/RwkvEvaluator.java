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
 * <p>Everything is computed over <em>rows</em>: row r advances state {@code rowStates[r]} by one token.
 * The weights are read once per layer for all rows (each projection is a matrix x matrix product), while
 * the recurrent parts (token shift, WKV) walk the rows in order and update each row's state in place.
 * Two uses follow from that one pass:
 * <ul>
 *   <li>{@link #stepBatch}: B different states (keys), one token each;
 *   <li>{@link #stepSequence}: one state, T tokens. Every row names the same state, so row t's token
 *       shift reads the normalized input that row t-1 just stored and its WKV continues from row t-1's,
 *       exactly as T single steps would, while the projections still run as products over the T rows.
 *       Long sequences are cut into chunks of {@value #SEQUENCE_CHUNK} rows to bound the scratch memory.
 * </ul>
 * After the buffers have grown to the largest batch or chunk seen, nothing is allocated.
 *
 * <p>The top level is the same for all versions (embedding, ln0, then per layer a time mix and a channel
 * mix added to the residual, ln_out, head); subclasses supply the time mix.
 */
public abstract class RwkvEvaluator implements AutoCloseable {
    /** Rows of a sequence evaluated together (the scratch holds this many rows of every buffer). */
    public static final int SEQUENCE_CHUNK = 128;
    /** Logits held at once when the head runs over many rows (log-probs of a sequence): 8 MiB. */
    private static final int HEAD_LOGIT_FLOATS = 1 << 21;

    protected final RwkvModel model;
    protected final int c;
    protected int capacity;
    private final MatMulThreads threads;
    /** Whether the rows of the current forward pass name distinct states (see {@link #forEachRow}). */
    private boolean distinctRows;
    /** {@link #shiftRows} as a task, made once, and what it reads. */
    private final MatMulThreads.RangeTask shiftTask = this::shiftRows;
    private RwkvState[] shiftStates;
    private int shiftAt;
    private float[] shiftW, shiftB;
    /** {@link #keyRange} as a task, made once, and the {@link #forEachKey} call it serves. */
    private final MatMulThreads.RangeTask keyRangeTask = this::keyRange;
    private KeyTask keyTask;
    private int keyLayer;
    private RwkvState[] keyStates;

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

    private final RwkvState[] oneState = new RwkvState[1];
    private final int[] oneToken = new int[1];
    private final RwkvState[] sequenceStates = new RwkvState[SEQUENCE_CHUNK];

    protected RwkvEvaluator(RwkvModel model, int threads) {
        this.model = model;
        this.c = model.embed;
        this.threads = new MatMulThreads(threads);
    }

    public RwkvModel model() {
        return model;
    }

    /** Threads each matrix product is split over. */
    public int threads() {
        return threads.threads();
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
        for (int b = 0; b < batch; b++) {
            checkToken(tokens[b]);
            checkState(states[b]);
        }
        forward(states, tokens, 0, batch);
        if (logits != null) {
            for (int b = 0; b < batch; b++) {
                Ops.layerNorm(x, b * c, c, model.lnOutW, model.lnOutB, xn, b * c);
            }
            mul(model.head, xn, 0, c, logits, 0, model.vocab, batch);
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
        checkState(state);
        for (int i = 0; i < len; i++) {
            checkToken(tokens[off + i]);
        }
        try {
            for (int start = 0; start < len; start += SEQUENCE_CHUNK) {
                int n = Math.min(SEQUENCE_CHUNK, len - start);
                Arrays.fill(sequenceStates, 0, n, state);
                forward(sequenceStates, tokens, off + start, n);
                int predicting = Math.min(n, len - 1 - start); // rows whose next token is known
                if (logProbs != null && predicting > 0) {
                    logProbHead(predicting, tokens, off + start + 1, logProbs, start);
                }
                if (lastLogits != null && start + n == len) {
                    Ops.layerNorm(x, (n - 1) * c, c, model.lnOutW, model.lnOutB, xn, 0);
                    mul(model.head, xn, 0, c, lastLogits, 0, model.vocab, 1);
                }
            }
        } finally {
            Arrays.fill(sequenceStates, null);
        }
    }

    /**
     * Weight bytes one {@link #stepBatch} of {@code batch} rows reads: every matrix once (the head only
     * with logits), one embedding row per row. Over memory bandwidth this bounds the step's speed.
     */
    public long weightBytesPerBatch(int batch, boolean logits) {
        return layerAndTopBytes() + (logits ? model.head.bytes() : 0) + batch * embeddingRowBytes();
    }

    /** Weight bytes one {@link #stepSequence} of {@code len} tokens reads (the layers once per chunk). */
    public long weightBytesPerSequence(int len, boolean logProbs, boolean lastLogits) {
        long chunks = (len + SEQUENCE_CHUNK - 1) / SEQUENCE_CHUNK;
        long headPasses = lastLogits ? 1 : 0;
        if (logProbs && len > 1) {
            int perPass = Math.max(1, Math.min(SEQUENCE_CHUNK, HEAD_LOGIT_FLOATS / model.vocab));
            for (int start = 0; start < len; start += SEQUENCE_CHUNK) {
                int predicting = Math.min(SEQUENCE_CHUNK, len - 1 - start);
                headPasses += predicting > 0 ? (predicting + perPass - 1) / perPass : 0;
            }
        }
        return chunks * layerAndTopBytes() + headPasses * model.head.bytes() + len * embeddingRowBytes();
    }

    private long embeddingRowBytes() {
        return model.emb.bytes() / model.vocab;
    }

    /** Every tensor but the embedding and the head. */
    private long layerAndTopBytes() {
        return model.weightBytesPerToken() - embeddingRowBytes() - model.head.bytes();
    }

    /**
     * For rows {@code [0, rows)} of the residual stream: the log-probability of {@code targets[tOff + r]}
     * into {@code dst[dOff + r]}, running the head over as many rows at a time as the logit buffer holds.
     */
    private void logProbHead(int rows, int[] targets, int tOff, float[] dst, int dOff) {
        int vocab = model.vocab;
        int perPass = Math.max(1, Math.min(SEQUENCE_CHUNK, HEAD_LOGIT_FLOATS / vocab));
        if (headLogits == null) {
            headLogits = new float[perPass * vocab];
        }
        for (int r0 = 0; r0 < rows; r0 += perPass) {
            int n = Math.min(perPass, rows - r0);
            for (int r = 0; r < n; r++) {
                Ops.layerNorm(x, (r0 + r) * c, c, model.lnOutW, model.lnOutB, xn, r * c);
            }
            mul(model.head, xn, 0, c, headLogits, 0, vocab, n);
            for (int r = 0; r < n; r++) {
                dst[dOff + r0 + r] = (float) LogProbs.of(headLogits, r * vocab, vocab, targets[tOff + r0 + r]);
            }
        }
    }

    /**
     * The layers over {@code rows} rows: row r embeds {@code tokens[tOff + r]} and advances
     * {@code rowStates[r]}; the final residual stream is left in {@link #x}. Rows naming the same state
     * are applied in row order.
     */
    private void forward(RwkvState[] rowStates, int[] tokens, int tOff, int rows) {
        ensureCapacity(rows);
        distinctRows = distinct(rowStates, rows);
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
     * Whether the first {@code n} states are distinct: their float arrays, compared by identity (two
     * {@link RwkvState#wrap} of one array are one state). Pairwise, as a batch is at most a few hundred
     * rows: nothing next to a step, and nothing allocated.
     */
    private static boolean distinct(RwkvState[] states, int n) {
        for (int i = 1; i < n; i++) {
            float[] s = states[i].data();
            for (int j = 0; j < i; j++) {
                if (states[j].data() == s) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Runs the per-row (per-key) work {@code task} over rows {@code [0, rows)}: split over this evaluator's
     * threads when every row has its own state (a batch of keys), so rows are independent and each is
     * computed by one thread with the same code (the bits do not depend on the thread count); on the
     * calling thread in row order when rows share a state (a sequence: row t continues row t-1's state).
     */
    protected final void forEachRow(int rows, MatMulThreads.RangeTask task) {
        if (distinctRows) {
            threads.forEachRange(rows, task);
        } else {
            task.run(0, rows);
        }
    }

    /** A version's per-key work in layer {@code layer} for the keys {@code [from, to)} (see {@link #forEachKey}). */
    @FunctionalInterface
    protected interface KeyTask {
        void run(int layer, RwkvState[] states, int from, int to);
    }

    /**
     * Runs a version's per-key work of layer {@code layer} over the batch's keys, as {@link #forEachRow}
     * splits rows: {@code task} must read and write only the rows and states of the keys it is given. Pass
     * a task made once (a method reference held in a field), so that the call allocates nothing.
     */
    protected final void forEachKey(int layer, RwkvState[] states, int batch, KeyTask task) {
        keyTask = task;
        keyLayer = layer;
        keyStates = states;
        try {
            forEachRow(batch, keyRangeTask);
        } finally {
            keyTask = null;
            keyStates = null;
        }
    }

    private void keyRange(int from, int to) {
        keyTask.run(keyLayer, keyStates, from, to);
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

    /** Grows the scratch buffers to hold {@code batch} rows. */
    protected final void ensureCapacity(int batch) {
        if (batch > capacity) {
            capacity = Math.max(batch, capacity * 2);
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
        shiftStates = states;
        shiftAt = layerOffset(layer) + slotInLayer;
        shiftW = lnW;
        shiftB = lnB;
        try {
            forEachRow(batch, shiftTask); // the layer norms are per key
        } finally {
            shiftStates = null;
        }
    }

    /** The time mix's token shift of layer {@code layer} (every version): {@link #shift} of its slot. */
    protected final void timeMixShift(RwkvState[] states, int batch, int layer) {
        shift(states, batch, RwkvModel.ATT_XX * c, layer, model.ln1W[layer], model.ln1B[layer]);
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

    /** {@link #shift} for rows {@code [from, to)}; in row order, so a row sharing a state reads the one before. */
    private void shiftRows(int from, int to) {
        RwkvState[] states = shiftStates;
        int at = shiftAt;
        for (int b = from; b < to; b++) {
            float[] s = states[b].data();
            Ops.layerNorm(x, b * c, c, shiftW, shiftB, xn, b * c);
            System.arraycopy(s, at, prev, b * c, c);
            System.arraycopy(xn, b * c, s, at, c);
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
        shift(states, batch, RwkvModel.FFN_XX * c, layer, m.lnW, m.lnB);
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
