package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.math.Ops;

/**
 * Advances RWKV states by one token each and computes the next-token logits. One evaluator has its own
 * scratch buffers and is not thread-safe; any number share one {@link RwkvModel}.
 *
 * <p>Every step is batched: {@code B} independent states (different keys) advance together, so each
 * weight matrix is read once per step for all of them. A single step is a batch of one. After the buffers
 * have grown to the largest batch seen, a step allocates nothing.
 *
 * <p>The top level is the same for all versions (embedding, ln0, then per layer a time mix and a channel
 * mix added to the residual, ln_out, head); subclasses supply the time mix.
 */
public abstract class RwkvEvaluator {
    protected final RwkvModel model;
    protected final int c;
    protected int capacity;

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

    private final RwkvState[] oneState = new RwkvState[1];
    private final int[] oneToken = new int[1];

    protected RwkvEvaluator(RwkvModel model) {
        this.model = model;
        this.c = model.embed;
    }

    public RwkvModel model() {
        return model;
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
     */
    public void stepBatch(RwkvState[] states, int[] tokens, int batch, float[] logits) {
        checkBatch(states, tokens, batch, logits);
        ensureCapacity(batch);
        for (int b = 0; b < batch; b++) {
            model.emb.row(tokens[b], x, b * c);
            Ops.layerNorm(x, b * c, c, model.ln0W, model.ln0B, x, b * c);
        }
        for (int layer = 0; layer < model.layers; layer++) {
            timeMix(layer, states, batch);
            channelMix(layer, states, batch);
        }
        if (logits != null) {
            for (int b = 0; b < batch; b++) {
                Ops.layerNorm(x, b * c, c, model.lnOutW, model.lnOutB, xn, b * c);
            }
            model.head.mul(xn, 0, c, logits, 0, model.vocab, batch);
        }
    }

    private void checkBatch(RwkvState[] states, int[] tokens, int batch, float[] logits) {
        if (batch < 1 || batch > states.length || batch > tokens.length) {
            throw new IllegalArgumentException("batch " + batch + " with " + states.length + " states and "
                    + tokens.length + " tokens");
        }
        if (logits != null && logits.length < (long) batch * model.vocab) {
            throw new IllegalArgumentException("logits buffer of " + logits.length + " floats, need "
                    + (long) batch * model.vocab);
        }
        int size = model.stateSize();
        for (int b = 0; b < batch; b++) {
            if (tokens[b] < 0 || tokens[b] >= model.vocab) {
                throw new IllegalArgumentException("token " + tokens[b] + " outside the vocabulary [0, "
                        + model.vocab + ")");
            }
            if (states[b].size() != size) {
                throw new IllegalArgumentException("state of " + states[b].size() + " floats, this model's has " + size);
            }
        }
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
        int at = layerOffset(layer) + slotInLayer;
        for (int b = 0; b < batch; b++) {
            float[] s = states[b].data();
            Ops.layerNorm(x, b * c, c, lnW, lnB, xn, b * c);
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
        shift(states, batch, 0, layer, m.lnW, m.lnB);
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
        m.key.mul(xk, 0, c, hidden, 0, f, batch);
        for (int i = 0, n = batch * f; i < n; i++) {
            hidden[i] = Ops.squaredRelu(hidden[i]);
        }
        m.value.mul(hidden, 0, f, out, 0, c, batch);
        if (m.receptance != null) {
            m.receptance.mul(xr, 0, c, gate, 0, c, batch);
            for (int i = 0, n = batch * c; i < n; i++) {
                out[i] = Ops.sigmoid(gate[i]) * out[i];
            }
        }
        addToResidual(out, batch);
    }
}
