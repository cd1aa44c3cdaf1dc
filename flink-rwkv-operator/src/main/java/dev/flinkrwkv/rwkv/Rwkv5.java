package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.math.Matrix;
import dev.flinkrwkv.math.Ops;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.model.RwkvVersion;

/**
 * RWKV-5 ("Eagle"), 5.1 and 5.2: multi-head matrix-valued state ({@link Wkv5}), group norm of the heads'
 * outputs, and in 5.2 a silu gate and per-channel (rather than per-head) decay and bonus.
 */
final class Rwkv5 extends MultiHeadModel {
    static final float GROUP_NORM_EPS = 1e-5f;

    final float[][] mixK, mixV, mixR, mixG; // mixG null in 5.1
    final float[][] bonus;  // u per channel (5.1: exp(first) per head, broadcast)
    final float[][] decay;  // w per channel, the file holds exp(-exp(decay))
    final Matrix[] gateW; // null in 5.1

    Rwkv5(Weights w, RwkvVersion version) throws ModelFormatException {
        super(w, version, w.tensor("blocks.0.att.time_decay"), w.tensor("blocks.0.att.time_decay").ne(2),
                GROUP_NORM_EPS);
        int c = embed;
        boolean v52 = version == RwkvVersion.V5_2;
        mixK = new float[layers][];
        mixV = new float[layers][];
        mixR = new float[layers][];
        mixG = v52 ? new float[layers][] : null;
        bonus = new float[layers][];
        decay = new float[layers][];
        gateW = v52 ? new Matrix[layers] : null;
        for (int i = 0; i < layers; i++) {
            String p = prefix(i) + "att.";
            mixK[i] = w.vector(p + "time_mix_k", c);
            mixV[i] = w.vector(p + "time_mix_v", c);
            mixR[i] = w.vector(p + "time_mix_r", c);
            if (v52) {
                mixG[i] = w.vector(p + "time_mix_g", c);
                bonus[i] = w.values(p + "time_faaaa", 1, headSize, heads);
                decay[i] = w.values(p + "time_decay", 1, headSize, heads);
                gateW[i] = w.matrix(p + "gate.weight", c, c);
            } else {
                bonus[i] = perHead(w.values(p + "time_first", 1, 1, heads));
                decay[i] = perHead(w.values(p + "time_decay", 1, 1, heads));
            }
            channelMix[i] = ChannelMix.load(w, i, c, "time_mix_k", "time_mix_r", true);
        }
    }

    /** Broadcasts one value per head to each of the head's channels. */
    private float[] perHead(float[] h) {
        float[] out = new float[embed];
        for (int i = 0; i < embed; i++) {
            out[i] = h[i / headSize];
        }
        return out;
    }

    @Override
    public RwkvEvaluator newEvaluator(int threads, int maxBatchTokens) {
        return new Evaluator(this, threads, maxBatchTokens);
    }

    private static final class Evaluator extends RwkvEvaluator {
        private final Rwkv5 m;
        private float[] xr = new float[0], xg = new float[0], r = new float[0], k = new float[0],
                v = new float[0], y = new float[0];
        /** Scratch of {@link Wkv5#step}, C floats per key. */
        private float[] rowTmp = new float[0];
        /** {@link #perKey} as a task, made once. */
        private final KeyTask perKey = this::perKey;

        Evaluator(Rwkv5 m, int threads, int maxBatchTokens) {
            super(m, threads, maxBatchTokens);
            this.m = m;
        }

        @Override
        protected void allocate(int n) {
            super.allocate(n);
            xr = new float[n * c];
            xg = new float[n * c];
            r = new float[n * c];
            k = new float[n * c];
            v = new float[n * c];
            y = new float[n * c];
            rowTmp = new float[n * c];
        }

        /** The time mix's work for keys {@code [from, to)}: only their rows and states, so ranges can run in parallel. */
        private void perKey(int layer, RwkvState[] states, int from, int to) {
            int at = layerOffset(layer) + HEADS * c;
            boolean gated = m.gateW != null;
            for (int b = from; b < to; b++) {
                int o = b * c;
                Wkv5.step(states[b].data(), at, m.heads, m.headSize, r, k, v, m.bonus[layer], m.decay[layer], 0, y, rowTmp, o);
                m.groupNorm(y, o, layer);
                if (gated) {
                    for (int i = o; i < o + c; i++) {
                        y[i] = y[i] * gate[i];
                    }
                }
            }
        }

        @Override
        protected void timeMix(int layer, RwkvState[] states, int batch) {
            // no sigmoid on r from v5 on
            lerpShiftProjections(layer, states, batch, m.mixK[layer], m.mixV[layer], m.mixR[layer], xr, r, k, v);
            boolean gated = m.gateW != null;
            if (gated) {
                TokenShift.lerp(xn, prev, m.mixG[layer], xg, batch, c);
                mul(m.gateW[layer], xg, gate, batch);
                for (int i = 0, n = batch * c; i < n; i++) {
                    gate[i] = Ops.silu(gate[i]);
                }
            }
            forEachKey(layer, states, batch, perKey); // the recurrence, ln_x and the gate, split by keys
            mul(m.output[layer], y, out, batch);
            addToResidual(out, batch);
        }
    }
}
