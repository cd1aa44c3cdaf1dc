package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.math.Matrix;
import dev.flinkrwkv.math.Ops;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.model.RwkvVersion;

/**
 * RWKV-4: the WKV of the paper, a per-channel exponentially decaying weighted average of values, kept as
 * numerator {@code aa}, denominator {@code bb} and the running max exponent {@code pp} for stability.
 */
final class Rwkv4 extends RwkvModel {
    /** State slots inside a layer after the two token-shift slots, in units of C floats. */
    static final int AA = Rwkv4Spec.AA, BB = Rwkv4Spec.BB, PP = Rwkv4Spec.PP;

    final float[][] mixK, mixV, mixR;
    final float[][] timeFirst;  // u, the bonus of the current token
    final float[][] timeDecay;  // w, stored in the file as -exp(decay)

    Rwkv4(Weights w) throws ModelFormatException {
        super(w, RwkvVersion.V4);
        int c = embed;
        mixK = new float[layers][];
        mixV = new float[layers][];
        mixR = new float[layers][];
        timeFirst = new float[layers][];
        timeDecay = new float[layers][];
        for (int i = 0; i < layers; i++) {
            String p = prefix(i) + "att.";
            mixK[i] = w.vector(p + "time_mix_k", c);
            mixV[i] = w.vector(p + "time_mix_v", c);
            mixR[i] = w.vector(p + "time_mix_r", c);
            timeFirst[i] = w.vector(p + "time_first", c);
            timeDecay[i] = w.vector(p + "time_decay", c);
            channelMix[i] = ChannelMix.load(w, i, c, "time_mix_k", "time_mix_r", true);
        }
    }

    @Override
    int headSize() {
        return 0;
    }

    @Override
    public int heads() {
        return 0;
    }

    @Override
    public RwkvEvaluator newEvaluator(int threads, int maxBatchTokens) {
        return new Evaluator(this, threads, maxBatchTokens);
    }

    private static final class Evaluator extends RwkvEvaluator {
        private final Rwkv4 m;
        private float[] xr = new float[0], k = new float[0], v = new float[0], r = new float[0];
        /** {@link #perKey} as a task, made once. */
        private final KeyTask perKey = this::perKey;

        Evaluator(Rwkv4 m, int threads, int maxBatchTokens) {
            super(m, threads, maxBatchTokens);
            this.m = m;
        }

        @Override
        protected void allocate(int n) {
            super.allocate(n);
            xr = new float[n * c];
            k = new float[n * c];
            v = new float[n * c];
            r = new float[n * c];
        }

        /** The WKV of keys {@code [from, to)} into {@link #gate}: only their rows and states, so ranges can run in parallel. */
        private void perKey(int layer, RwkvState[] states, int from, int to) {
            float[] u = m.timeFirst[layer];
            float[] w = m.timeDecay[layer];
            int base = layerOffset(layer);
            float[] wkv = gate;
            for (int b = from; b < to; b++) {
                float[] s = states[b].data();
                int o = b * c;
                for (int i = 0; i < c; i++) {
                    int ia = base + AA * c + i, ib = base + BB * c + i, ip = base + PP * c + i;
                    float aa = s[ia], bb = s[ib], pp = s[ip];
                    float kk = k[o + i], vv = v[o + i];
                    // output: the running average with the current token weighted by exp(u + k)
                    float ww = u[i] + kk;
                    float q = Math.max(pp, ww);
                    float e1 = Ops.exp(pp - q);
                    float e2 = Ops.exp(ww - q);
                    float num = e1 * aa + e2 * vv;
                    float den = e1 * bb + e2;
                    // state: decay the past by exp(w), add the current token with weight exp(k)
                    float ww2 = pp + w[i];
                    float q2 = Math.max(ww2, kk);
                    float f1 = Ops.exp(ww2 - q2);
                    float f2 = Ops.exp(kk - q2);
                    s[ia] = f1 * aa + f2 * vv;
                    s[ib] = f1 * bb + f2;
                    s[ip] = q2;
                    wkv[o + i] = Ops.sigmoid(r[o + i]) * (num / den);
                }
            }
        }

        @Override
        protected void timeMix(int layer, RwkvState[] states, int batch) {
            lerpShiftProjections(layer, states, batch, m.mixK[layer], m.mixV[layer], m.mixR[layer], xr, r, k, v);

            forEachKey(layer, states, batch, perKey); // the WKV into gate, split by keys
            mul(m.output[layer], gate, out, batch);
            addToResidual(out, batch);
        }
    }
}
