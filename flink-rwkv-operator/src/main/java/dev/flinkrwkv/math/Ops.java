package dev.flinkrwkv.math;

/**
 * The element-wise and normalization steps that every RWKV version shares, computed as rwkv.cpp (ggml)
 * computes them: sums of normalizations in double, everything else in float32, no fused multiply-add.
 */
public final class Ops {
    private Ops() {}

    /**
     * Normalizes {@code n} values of {@code x} at {@code off} to zero mean and unit variance into
     * {@code out} at {@code outOff} (may alias): ggml_norm. Mean and variance are summed in double.
     */
    public static void normalize(float[] x, int off, int n, float eps, float[] out, int outOff) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += x[off + i];
        }
        float mean = (float) (sum / n);
        double sq = 0;
        for (int i = 0; i < n; i++) {
            float d = x[off + i] - mean;
            sq += d * d;
        }
        float var = (float) (sq / n);
        float scale = 1f / (float) Math.sqrt(var + eps);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = (x[off + i] - mean) * scale;
        }
    }

    /** LayerNorm with weight and bias, eps 1e-5: {@code y = norm(x)*w + b} with two roundings. */
    public static void layerNorm(float[] x, int off, int n, float[] w, float[] b, float[] out, int outOff) {
        normalize(x, off, n, 1e-5f, out, outOff);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = out[outOff + i] * w[i] + b[i];
        }
    }

    /**
     * GroupNorm (the ln_x of v5, v6, v7): each of {@code heads} consecutive groups of {@code c/heads}
     * values normalized on its own, then the full-length weight and bias applied.
     */
    public static void groupNorm(float[] x, int off, int c, int heads, float eps, float[] w, float[] b) {
        int s = c / heads;
        for (int h = 0; h < heads; h++) {
            normalize(x, off + h * s, s, eps, x, off + h * s);
        }
        for (int i = 0; i < c; i++) {
            x[off + i] = x[off + i] * w[i] + b[i];
        }
    }

    public static float sigmoid(float x) {
        return 1f / (1f + (float) Math.exp(-x));
    }

    public static float silu(float x) {
        return x / (1f + (float) Math.exp(-x));
    }

    public static float tanh(float x) {
        return (float) Math.tanh(x);
    }

    public static float exp(float x) {
        return (float) Math.exp(x);
    }

    /**
     * relu(x)^2, the channel-mix activation. {@code Math.max}, not {@code x > 0 ? x : 0}: the signs of the
     * channel mix's hidden values are a coin toss, and the branch C2 compiled for the conditional was
     * mispredicted half the time (9% of a batch-64 step of a 2 x 64 model); max is one branch-free
     * instruction that the loop vectorizer also takes. Same value for every input but NaN, which now stays
     * NaN instead of becoming 0.
     */
    public static float squaredRelu(float x) {
        float r = Math.max(x, 0f);
        return r * r;
    }
}
