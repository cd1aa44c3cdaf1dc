package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.math.Matrix;
import dev.flinkrwkv.math.Ops;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.model.RwkvVersion;
import dev.flinkrwkv.model.Tensor;

/**
 * RWKV-6 ("Finch"): the v5 recurrence with a data-dependent token shift (a low-rank "maa" mix that
 * gives each of w, k, v, r, g its own interpolation) and a data-dependent decay (a low-rank correction
 * to the per-channel decay, taken through {@code exp(-exp(.))} every token).
 */
final class Rwkv6 extends MultiHeadModel {
    static final float GROUP_NORM_EPS = 64e-5f;
    /** Order of the five maa LoRA outputs (not the v7 order). */
    static final int W = 0, K = 1, V = 2, R = 3, G = 4;

    final int maaRank, decayRank;
    final float[][] maaX;
    final float[][][] maa;          // [layer][w,k,v,r,g][C]
    final Matrix[] maaW1;           // C -> 5*maaRank
    final Matrix[][] maaW2;         // [layer][w,k,v,r,g]: maaRank -> C
    final float[][] decayBase;      // raw decay per channel
    final Matrix[] decayW1, decayW2; // C -> decayRank -> C
    final float[][] bonus;
    final Matrix[] gateW;

    Rwkv6(Weights w) throws ModelFormatException {
        super(w, RwkvVersion.V6, w.tensor("blocks.0.att.time_decay"), w.tensor("blocks.0.att.time_decay").ne(2),
                GROUP_NORM_EPS);
        int c = embed;
        int maaRows = w.rowsOf("blocks.0.att.time_maa_w1", c);
        if (maaRows % 5 != 0) {
            throw w.shape(w.tensor("blocks.0.att.time_maa_w1"), "[" + c + ", 5*D]");
        }
        maaRank = maaRows / 5;
        decayRank = w.rowsOf("blocks.0.att.time_decay_w1", c);
        maaX = new float[layers][];
        maa = new float[layers][5][];
        maaW1 = new Matrix[layers];
        maaW2 = new Matrix[layers][5];
        decayBase = new float[layers][];
        decayW1 = new Matrix[layers];
        decayW2 = new Matrix[layers];
        bonus = new float[layers][];
        gateW = new Matrix[layers];
        String[] names = {"w", "k", "v", "r", "g"};
        for (int i = 0; i < layers; i++) {
            String p = prefix(i) + "att.";
            maaX[i] = w.vector(p + "time_maa_x", c);
            for (int s = 0; s < 5; s++) {
                maa[i][s] = w.vector(p + "time_maa_" + names[s], c);
            }
            maaW1[i] = w.matrix(p + "time_maa_w1", c, 5 * maaRank);
            Tensor w2 = w.tensor(p + "time_maa_w2");
            if (w2.ne(0) != maaRank || w2.ne(1) != c || w2.ne(2) != 5) {
                throw w.shape(w2, "[" + maaRank + ", " + c + ", 5]");
            }
            for (int s = 0; s < 5; s++) {
                maaW2[i][s] = Matrix.rowsOf(w2, s * c, c);
            }
            decayBase[i] = w.values(p + "time_decay", 1, headSize, heads);
            decayW1[i] = w.matrix(p + "time_decay_w1", c, decayRank);
            decayW2[i] = w.matrix(p + "time_decay_w2", decayRank, c);
            bonus[i] = w.values(p + "time_faaaa", 1, headSize, heads);
            gateW[i] = w.matrix(p + "gate.weight", c, c);
            channelMix[i] = ChannelMix.load(w, i, c, "time_maa_k", "time_maa_r", false);
        }
    }

    @Override
    public RwkvEvaluator newEvaluator(int threads, int maxBatchTokens) {
        return new Evaluator(this, threads, maxBatchTokens);
    }

    private static final class Evaluator extends RwkvEvaluator {
        private final Rwkv6 m;
        private float[][] mixed = new float[5][0]; // xw, xk, xv, xr, xg
        private float[] maaHidden = new float[0], decayHidden = new float[0], r = new float[0],
                k = new float[0], v = new float[0], w = new float[0], y = new float[0];
        /** Scratch of {@link Wkv5#step}, C floats per key. */
        private float[] rowTmp = new float[0];
        /** {@link #perKey} as a task, made once. */
        private final KeyTask perKey = this::perKey;

        Evaluator(Rwkv6 m, int threads, int maxBatchTokens) {
            super(m, threads, maxBatchTokens);
            this.m = m;
        }

        @Override
        protected void allocate(int n) {
            super.allocate(n);
            for (int s = 0; s < 5; s++) {
                mixed[s] = new float[n * c];
            }
            maaHidden = new float[n * 5 * m.maaRank];
            decayHidden = new float[n * m.decayRank];
            r = new float[n * c];
            k = new float[n * c];
            v = new float[n * c];
            w = new float[n * c];
            y = new float[n * c];
            rowTmp = new float[n * c];
        }

        /** The time mix's work for keys {@code [from, to)}: only their rows and states, so ranges can run in parallel. */
        private void perKey(int layer, RwkvState[] states, int from, int to) {
            float[] base = m.decayBase[layer];
            int at = layerOffset(layer) + HEADS * c;
            for (int b = from; b < to; b++) {
                int o = b * c;
                for (int i = 0; i < c; i++) {
                    w[o + i] = Ops.exp(-Ops.exp(w[o + i] + base[i]));
                }
                Wkv5.step(states[b].data(), at, m.heads, m.headSize, r, k, v, m.bonus[layer], w, o, y, rowTmp, o);
                m.groupNorm(y, o, layer);
                for (int i = o; i < o + c; i++) {
                    y[i] = y[i] * gate[i];
                }
            }
        }

        @Override
        protected void timeMix(int layer, RwkvState[] states, int batch) {
            timeMixShift(states, batch, layer);
            TokenShift.delta(xn, prev, sx, batch, c);

            // data-dependent token shift: a rank-maaRank correction of each of the five mix vectors
            float[] xxx = mixA;
            TokenShift.add(xn, sx, m.maaX[layer], xxx, batch, c);
            int hid = 5 * m.maaRank;
            mul(m.maaW1[layer], xxx, 0, c, maaHidden, 0, hid, batch);
            for (int i = 0, n = batch * hid; i < n; i++) {
                maaHidden[i] = Ops.tanh(maaHidden[i]);
            }
            for (int s = 0; s < 5; s++) {
                float[] lora = mixB;
                mul(m.maaW2[layer][s], maaHidden, s * m.maaRank, hid, lora, 0, c, batch);
                float[] mu = m.maa[layer][s];
                float[] dst = mixed[s];
                for (int b = 0; b < batch; b++) {
                    int o = b * c;
                    for (int i = 0; i < c; i++) {
                        dst[o + i] = (lora[o + i] + mu[i]) * sx[o + i] + xn[o + i];
                    }
                }
            }
            mul(m.receptance[layer], mixed[R], r, batch);
            mul(m.key[layer], mixed[K], k, batch);
            mul(m.value[layer], mixed[V], v, batch);
            mul(m.gateW[layer], mixed[G], gate, batch);
            for (int i = 0, n = batch * c; i < n; i++) {
                gate[i] = Ops.silu(gate[i]);
            }

            // data-dependent decay: w = exp(-exp(decay + W2 tanh(W1 xw)))
            mul(m.decayW1[layer], mixed[W], 0, c, decayHidden, 0, m.decayRank, batch);
            for (int i = 0, n = batch * m.decayRank; i < n; i++) {
                decayHidden[i] = Ops.tanh(decayHidden[i]);
            }
            mul(m.decayW2[layer], decayHidden, 0, m.decayRank, w, 0, c, batch);
            forEachKey(layer, states, batch, perKey); // the decay, the recurrence, ln_x and the gate, split by keys
            mul(m.output[layer], y, out, batch);
            addToResidual(out, batch);
        }
    }
}
