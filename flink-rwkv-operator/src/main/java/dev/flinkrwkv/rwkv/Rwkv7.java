package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.math.Matrix;
import dev.flinkrwkv.math.Ops;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.model.RwkvVersion;

/**
 * RWKV-7 ("Goose"): the generalized delta rule. Each head's state {@code St[i][j]} (i = value channel,
 * j = key channel) decays per key channel, is corrected by its own prediction along the normalized key
 * ({@code sa * beta^T}, the in-context learning rate a), and gains {@code v k^T}; the output reads the new
 * state. Low-rank projections give the decay w, the learning rate a, the gate g and, from layer 1 on, a
 * mix of the value toward the first layer's value ("value residual").
 */
final class Rwkv7 extends MultiHeadModel {
    static final float GROUP_NORM_EPS = 64e-5f;
    /** e^-0.5 as rwkv.cpp writes it: the decay is exp(-0.606531 * sigmoid(.)). */
    static final float DECAY_SCALE = -0.606531f;
    /** Slab order of att.x_rwkvag. */
    static final int R = Rwkv7Spec.R, W = Rwkv7Spec.W, K = Rwkv7Spec.K, V = Rwkv7Spec.V, A = Rwkv7Spec.A, G = Rwkv7Spec.G;

    final float[][][] mix;     // [layer][r,w,k,v,a,g][C]
    final float[][] w0, a0, v0, kK, kA, rK;
    final Matrix[] w1, w2, a1, a2, g1, g2, v1, v2; // v1, v2 null in layer 0

    Rwkv7(Weights w) throws ModelFormatException {
        super(w, RwkvVersion.V7, w.tensor("blocks.0.att.r_k"), w.tensor("blocks.0.att.r_k").ne(1), GROUP_NORM_EPS);
        int c = embed;
        int dw = w.rowsOf("blocks.0.att.w1", c);
        int da = w.rowsOf("blocks.0.att.a1", c);
        int dg = w.rowsOf("blocks.0.att.g1", c);
        mix = new float[layers][Rwkv7Spec.MIXES][];
        w0 = new float[layers][];
        a0 = new float[layers][];
        v0 = new float[layers][];
        kK = new float[layers][];
        kA = new float[layers][];
        rK = new float[layers][];
        w1 = new Matrix[layers];
        w2 = new Matrix[layers];
        a1 = new Matrix[layers];
        a2 = new Matrix[layers];
        g1 = new Matrix[layers];
        g2 = new Matrix[layers];
        v1 = new Matrix[layers];
        v2 = new Matrix[layers];
        for (int i = 0; i < layers; i++) {
            String p = prefix(i) + "att.";
            float[] m6 = w.values(p + "x_rwkvag", c, 1, Rwkv7Spec.MIXES);
            for (int s = 0; s < Rwkv7Spec.MIXES; s++) {
                mix[i][s] = java.util.Arrays.copyOfRange(m6, s * c, (s + 1) * c);
            }
            w0[i] = w.vector(p + "w0", c);
            a0[i] = w.vector(p + "a0", c);
            kK[i] = w.vector(p + "k_k", c);
            kA[i] = w.vector(p + "k_a", c);
            rK[i] = w.values(p + "r_k", headSize, heads);
            w1[i] = w.matrix(p + "w1", c, dw);
            w2[i] = w.matrix(p + "w2", dw, c);
            a1[i] = w.matrix(p + "a1", c, da);
            a2[i] = w.matrix(p + "a2", da, c);
            g1[i] = w.matrix(p + "g1", c, dg);
            g2[i] = w.matrix(p + "g2", dg, c);
            if (Rwkv7Spec.hasValueResidual(i)) {
                int dv = w.rowsOf(p + "v1", c);
                v0[i] = w.vector(p + "v0", c);
                v1[i] = w.matrix(p + "v1", c, dv);
                v2[i] = w.matrix(p + "v2", dv, c);
            }
            channelMix[i] = ChannelMix.load(w, i, c, "x_k", null, false);
        }
    }

    int maxLoraRank() {
        int r = 0;
        for (int i = 0; i < layers; i++) {
            r = Math.max(r, Math.max(w1[i].rows(), Math.max(a1[i].rows(), g1[i].rows())));
            if (v1[i] != null) {
                r = Math.max(r, v1[i].rows());
            }
        }
        return r;
    }

    @Override
    public RwkvEvaluator newEvaluator(int threads, int maxBatchTokens) {
        return new Evaluator(this, threads, maxBatchTokens);
    }

    private static final class Evaluator extends RwkvEvaluator {
        private final Rwkv7 m;
        private float[][] mixed = new float[Rwkv7Spec.MIXES][0];
        private float[] lora = new float[0], r = new float[0], w = new float[0], k = new float[0],
                kk = new float[0], a = new float[0], v = new float[0], vFirst = new float[0], y = new float[0],
                beta = new float[0], wr = new float[0], saTmp = new float[0];
        /** {@link #perKey} as a task, made once. */
        private final KeyTask perKey = this::perKey;

        Evaluator(Rwkv7 m, int threads, int maxBatchTokens) {
            super(m, threads, maxBatchTokens);
            this.m = m;
        }

        @Override
        protected void allocate(int n) {
            super.allocate(n);
            for (int s = 0; s < Rwkv7Spec.MIXES; s++) {
                mixed[s] = new float[n * c];
            }
            lora = new float[n * m.maxLoraRank()];
            r = new float[n * c];
            w = new float[n * c];
            k = new float[n * c];
            kk = new float[n * c];
            a = new float[n * c];
            v = new float[n * c];
            vFirst = new float[n * c];
            y = new float[n * c];
            beta = new float[n * c];
            wr = new float[n * c];
            saTmp = new float[n * c];
        }

        /** {@code dst = down · f(up · x)}, a low-rank projection through {@code f}. */
        private void lowRank(Matrix up, Matrix down, float[] in, float[] dst, int batch, int activation) {
            int rank = up.rows();
            mul(up, in, 0, c, lora, 0, rank, batch);
            for (int i = 0, n = batch * rank; i < n; i++) {
                float h = lora[i];
                lora[i] = activation == TANH ? Ops.tanh(h) : activation == SIGMOID ? Ops.sigmoid(h) : h;
            }
            mul(down, lora, 0, rank, dst, 0, c, batch);
        }

        private static final int NONE = 0, TANH = 1, SIGMOID = 2;

        @Override
        protected void timeMix(int layer, RwkvState[] states, int batch) {
            timeMixShift(states, batch, layer);
            TokenShift.delta(xn, prev, sx, batch, c);
            for (int s = 0; s < Rwkv7Spec.MIXES; s++) {
                TokenShift.add(xn, sx, m.mix[layer][s], mixed[s], batch, c);
            }
            // the products over all keys (split by rows of the weights) ...
            mul(m.receptance[layer], mixed[R], r, batch);
            lowRank(m.g1[layer], m.g2[layer], mixed[G], gate, batch, SIGMOID);
            lowRank(m.a1[layer], m.a2[layer], mixed[A], a, batch, NONE);
            lowRank(m.w1[layer], m.w2[layer], mixed[W], w, batch, TANH);
            mul(m.key[layer], mixed[K], k, batch);
            mul(m.value[layer], mixed[V], v, batch);
            if (layer > 0) {
                lowRank(m.v1[layer], m.v2[layer], mixed[V], y, batch, NONE);
            }
            // ... then everything per key (split by keys), ...
            forEachKey(layer, states, batch, perKey);
            // ... and the output product over all keys again
            mul(m.output[layer], y, out, batch);
            addToResidual(out, batch);
        }

        /**
         * The time mix's work for keys {@code [from, to)} of layer {@code layer}, between the input
         * products and the output product: the activations, the normalized key, the value residual, the
         * recurrence ({@link Wkv7}), ln_x, the bonus and the gate. It reads and writes only those keys' rows
         * and states, so key ranges can run on different threads.
         */
        private void perKey(int layer, RwkvState[] states, int from, int to) {
            int s = m.headSize;
            float[] a0 = m.a0[layer], w0 = m.w0[layer], kK = m.kK[layer], kA = m.kA[layer], v0 = m.v0[layer];
            float[] rK = m.rK[layer];
            int at = layerOffset(layer) + HEADS * c;
            for (int bt = from; bt < to; bt++) {
                int o = bt * c;
                for (int i = 0; i < c; i++) {
                    a[o + i] = Ops.sigmoid(a[o + i] + a0[i]);
                    w[o + i] = Ops.exp(Ops.sigmoid(w[o + i] + w0[i]) * DECAY_SCALE);
                }
                // kk = normalize(k * k_k) per head; k = k + k*k_a*(a-1)
                for (int i = 0; i < c; i++) {
                    kk[o + i] = k[o + i] * kK[i];
                }
                for (int h = 0; h < m.heads; h++) {
                    int ho = o + h * s;
                    float sum = 0f;
                    for (int j = 0; j < s; j++) {
                        sum += kk[ho + j] * kk[ho + j];
                    }
                    float inv = 1f / Math.max((float) Math.sqrt(sum), 1e-12f);
                    for (int j = 0; j < s; j++) {
                        kk[ho + j] = kk[ho + j] * inv;
                    }
                }
                for (int i = 0; i < c; i++) {
                    float ka = k[o + i] * kA[i];
                    k[o + i] = k[o + i] + (a[o + i] * ka - ka);
                    beta[o + i] = kk[o + i] * a[o + i]; // the b of the recurrence, once per token
                    wr[o + i] = w[o + i] * r[o + i];
                }
                // value residual: layer 0 keeps its v, later layers mix toward it (y holds their v LoRA)
                if (layer == 0) {
                    System.arraycopy(v, o, vFirst, o, c);
                } else {
                    for (int i = 0; i < c; i++) {
                        v[o + i] = v[o + i] + (vFirst[o + i] - v[o + i]) * Ops.sigmoid(y[o + i] + v0[i]);
                    }
                }

                Wkv7.step(states[bt].data(), at, m.heads, s, r, w, k, v, kk, beta, wr, y, saTmp, o);
                m.groupNorm(y, o, layer);
                // bonus: y += v * sum_j(r k r_k) per head; then the gate
                for (int h = 0; h < m.heads; h++) {
                    int ho = o + h * s;
                    float rho = 0f;
                    for (int j = 0; j < s; j++) {
                        rho += k[ho + j] * r[ho + j] * rK[h * s + j];
                    }
                    for (int i = 0; i < s; i++) {
                        y[ho + i] = y[ho + i] + v[ho + i] * rho;
                    }
                }
                for (int i = 0; i < c; i++) {
                    y[o + i] = y[o + i] * gate[o + i];
                }
            }
        }
    }
}
