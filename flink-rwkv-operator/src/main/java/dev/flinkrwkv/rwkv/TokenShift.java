package dev.flinkrwkv.rwkv;

/**
 * Token shift: each sub-block mixes its normalized input X with the previous token's normalized input
 * (kept in the state). Two forms exist, equal in exact arithmetic but rounded differently, and each
 * version uses the one its reference implementation uses.
 */
final class TokenShift {
    private TokenShift() {}

    /** v4/v5: {@code X*mu + (prev - prev*mu)}, in this operation order. */
    static void lerp(float[] x, float[] prev, float[] mu, float[] out, int batch, int c) {
        for (int b = 0; b < batch; b++) {
            int o = b * c;
            for (int i = 0; i < c; i++) {
                float p = prev[o + i];
                out[o + i] = x[o + i] * mu[i] + (p - p * mu[i]);
            }
        }
    }

    /** v6/v7: {@code sx*mu + X} with {@code sx = prev - X} already computed. */
    static void add(float[] x, float[] sx, float[] mu, float[] out, int batch, int c) {
        for (int b = 0; b < batch; b++) {
            int o = b * c;
            for (int i = 0; i < c; i++) {
                out[o + i] = sx[o + i] * mu[i] + x[o + i];
            }
        }
    }

    /** {@code sx = prev - X}. */
    static void delta(float[] x, float[] prev, float[] sx, int batch, int c) {
        for (int i = 0, n = batch * c; i < n; i++) {
            sx[i] = prev[i] - x[i];
        }
    }
}
