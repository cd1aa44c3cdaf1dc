package dev.flinkrwkv.train;

import java.util.Arrays;

/**
 * The WKV-7 recurrence of the training passes over a chunk of up to T tokens, per head:
 * {@code St = St-1 diag(w) + v k^T + (St-1 alpha) beta^T} with alpha = -kk and beta = kk*a, and
 * {@code y = St r}; and its gradient in reverse time. Every layer's states stay cached from the forward pass
 * to the backward pass. Two precisions, like {@link MatrixProducts}:
 * <ul>
 *   <li>{@link #exact}: double precision (the gradient check's path);
 *   <li>{@link #float32}: the inputs, states and gradients as float32: half the memory of the states the
 *       backward pass streams through, twice the lanes where the JIT vectorizes. Its dot products sum eight
 *       fixed partials ({@link FloatDot}) and no loop reorders a sum, so the result is the same bits on every
 *       machine, with or without the Vector API.
 *       {@code FloatProductsTest} bounds its distance from the exact path.
 * </ul>
 * One instance belongs to one chunk (one thread) and holds its caches and scratch. The state gradient starts
 * at zero after the last token (the final state is not in the loss) and is dropped before the first
 * (truncated BPTT).
 */
abstract class WkvRecurrence {
    final int c, s, heads, capacity;

    WkvRecurrence(Rwkv7Shape shape, int capacity) {
        this.c = shape.embed();
        this.s = shape.headSize();
        this.heads = shape.heads();
        this.capacity = capacity;
    }

    /**
     * Runs {@code n} tokens of layer {@code layer} from the state at {@code state[at]} (c x s values, the H
     * value-by-key matrices), which is left holding the chunk's final state; writes y (T rows of C).
     */
    abstract void forward(int layer, int n, double[] kk, double[] a, double[] w, double[] k, double[] v, double[] r,
                          double[] state, int at, double[] y);

    /**
     * The gradient of layer {@code layer}'s last forward pass from {@code dy}: adds to dr, dw (of the decay
     * value), dk, dv, dkk (through alpha = -kk and beta = kk*a) and da (through beta).
     */
    abstract void backward(int layer, double[] dy, double[] dr, double[] dw, double[] dk, double[] dv, double[] dkk,
                           double[] da);

    static WkvRecurrence exact(Rwkv7Shape shape, int capacity) {
        return new Exact(shape, capacity);
    }

    static WkvRecurrence float32(Rwkv7Shape shape, int capacity) {
        return new Float32(shape, capacity);
    }

    private static final class Exact extends WkvRecurrence {
        /** Per layer: every state (index t+1 after token t) and {@code St-1 alpha} per token. */
        private final double[][] states, sa;
        /** Per layer: the forward pass's inputs (the chunk's own caches, valid until its backward pass). */
        private final double[][] kk, a, w, k, v, r;
        private int count;
        private final double[] beta, dBeta, dS;

        Exact(Rwkv7Shape shape, int capacity) {
            super(shape, capacity);
            int layers = shape.layers();
            states = new double[layers][(capacity + 1) * c * s];
            sa = new double[layers][capacity * c];
            kk = new double[layers][];
            a = new double[layers][];
            w = new double[layers][];
            k = new double[layers][];
            v = new double[layers][];
            r = new double[layers][];
            beta = new double[s];
            dBeta = new double[s];
            dS = new double[c * s];
        }

        @Override
        void forward(int layer, int n, double[] kk, double[] a, double[] w, double[] k, double[] v, double[] r,
                     double[] state, int at, double[] y) {
            this.kk[layer] = kk;
            this.a[layer] = a;
            this.w[layer] = w;
            this.k[layer] = k;
            this.v[layer] = v;
            this.r[layer] = r;
            count = n;
            int ss = c * s;
            double[] st = states[layer], sa = this.sa[layer];
            System.arraycopy(state, at, st, 0, ss);
            for (int t = 0; t < n; t++) {
                int prev = t * ss, next = (t + 1) * ss;
                for (int h = 0; h < heads; h++) {
                    int o = t * c + h * s;
                    for (int j = 0; j < s; j++) {
                        beta[j] = kk[o + j] * a[o + j];
                    }
                    for (int i = 0; i < s; i++) {
                        int row = h * s * s + i * s;
                        double sai = -dot(kk, o, st, prev + row, s);
                        sa[o + i] = sai;
                        double vi = v[o + i];
                        // Element-wise, so the JIT vectorizes it; the dot products keep their own loops.
                        for (int j = 0; j < s; j++) {
                            st[next + row + j] = st[prev + row + j] * w[o + j] + vi * k[o + j] + sai * beta[j];
                        }
                        y[o + i] = dot(st, next + row, r, o, s);
                    }
                }
            }
            System.arraycopy(st, n * ss, state, at, ss);
        }

        @Override
        void backward(int layer, double[] dy, double[] dr, double[] dw, double[] dk, double[] dv, double[] dkk,
                      double[] da) {
            int ss = c * s;
            double[] st = states[layer], sa = this.sa[layer];
            double[] kk = this.kk[layer], a = this.a[layer], w = this.w[layer], k = this.k[layer], v = this.v[layer],
                    r = this.r[layer];
            Arrays.fill(dS, 0);
            for (int t = count - 1; t >= 0; t--) {
                int prev = t * ss, next = (t + 1) * ss;
                for (int h = 0; h < heads; h++) {
                    int o = t * c + h * s;
                    for (int j = 0; j < s; j++) {
                        beta[j] = kk[o + j] * a[o + j];
                        dBeta[j] = 0;
                    }
                    for (int i = 0; i < s; i++) {
                        int row = h * s * s + i * s;
                        double dyi = dy[o + i];
                        double vi = v[o + i];
                        double sai = sa[o + i];
                        // The element-wise terms in one loop (the JIT vectorizes it), the sums over j after it.
                        for (int j = 0; j < s; j++) {
                            double d = dS[row + j] + dyi * r[o + j];
                            dS[row + j] = d;
                            dr[o + j] += st[next + row + j] * dyi;
                            dw[o + j] += d * st[prev + row + j];
                            dk[o + j] += d * vi;
                            dBeta[j] += d * sai;
                        }
                        double dsa = dot(dS, row, beta, 0, s);
                        dv[o + i] += dot(dS, row, k, o, s);
                        for (int j = 0; j < s; j++) {
                            // d alpha_j = dsa * St-1[i][j]; alpha = -kk.
                            dkk[o + j] -= dsa * st[prev + row + j];
                            dS[row + j] = dS[row + j] * w[o + j] - dsa * kk[o + j];
                        }
                    }
                    // beta = kk * a.
                    for (int j = 0; j < s; j++) {
                        dkk[o + j] += dBeta[j] * a[o + j];
                        da[o + j] += dBeta[j] * kk[o + j];
                    }
                }
            }
        }

        private static double dot(double[] a, int ao, double[] b, int bo, int n) {
            return Dot.KERNEL.dot(a, ao, b, bo, n);
        }
    }

    /** The same loops as {@link Exact} over float32 copies; the gradients are summed in float, then added. */
    private static final class Float32 extends WkvRecurrence {
        /** Per layer: the inputs as float32 (beta = kk*a among them), the states, and {@code St-1 alpha}. */
        private final float[][] kk, a, beta, w, k, v, r, states, sa;
        private int count;
        /** Backward scratch: dy and the gradients of one layer, the state gradient, one head's d beta. */
        private final float[] dy, dr, dw, dk, dv, dkk, da, dS, dBeta;

        Float32(Rwkv7Shape shape, int capacity) {
            super(shape, capacity);
            int layers = shape.layers(), tc = capacity * c;
            kk = new float[layers][tc];
            a = new float[layers][tc];
            beta = new float[layers][tc];
            w = new float[layers][tc];
            k = new float[layers][tc];
            v = new float[layers][tc];
            r = new float[layers][tc];
            states = new float[layers][(capacity + 1) * c * s];
            sa = new float[layers][tc];
            dy = new float[tc];
            dr = new float[tc];
            dw = new float[tc];
            dk = new float[tc];
            dv = new float[tc];
            dkk = new float[tc];
            da = new float[tc];
            dS = new float[c * s];
            dBeta = new float[s];
        }

        @Override
        void forward(int layer, int n, double[] kkIn, double[] aIn, double[] wIn, double[] kIn, double[] vIn,
                     double[] rIn, double[] state, int at, double[] y) {
            int tc = n * c, ss = c * s;
            float[] kk = this.kk[layer], a = this.a[layer], beta = this.beta[layer], w = this.w[layer],
                    k = this.k[layer], v = this.v[layer], r = this.r[layer], st = states[layer], sa = this.sa[layer];
            toFloat(kkIn, kk, tc);
            toFloat(aIn, a, tc);
            toFloat(wIn, w, tc);
            toFloat(kIn, k, tc);
            toFloat(vIn, v, tc);
            toFloat(rIn, r, tc);
            for (int i = 0; i < tc; i++) {
                beta[i] = kk[i] * a[i];
            }
            toFloat(state, at, st, ss);
            count = n;
            for (int t = 0; t < n; t++) {
                int prev = t * ss, next = (t + 1) * ss;
                for (int h = 0; h < heads; h++) {
                    int o = t * c + h * s;
                    for (int i = 0; i < s; i++) {
                        int row = h * s * s + i * s;
                        float sai = -dot(kk, o, st, prev + row, s);
                        sa[o + i] = sai;
                        float vi = v[o + i];
                        for (int j = 0; j < s; j++) {
                            st[next + row + j] = st[prev + row + j] * w[o + j] + vi * k[o + j] + sai * beta[o + j];
                        }
                        y[o + i] = dot(st, next + row, r, o, s);
                    }
                }
            }
            for (int i = 0; i < ss; i++) {
                state[at + i] = st[n * ss + i];
            }
        }

        @Override
        void backward(int layer, double[] dyIn, double[] drOut, double[] dwOut, double[] dkOut, double[] dvOut,
                      double[] dkkOut, double[] daOut) {
            int tc = count * c, ss = c * s;
            float[] kk = this.kk[layer], a = this.a[layer], beta = this.beta[layer], w = this.w[layer],
                    k = this.k[layer], v = this.v[layer], r = this.r[layer], st = states[layer], sa = this.sa[layer];
            toFloat(dyIn, 0, dy, tc);
            Arrays.fill(dr, 0, tc, 0f);
            Arrays.fill(dw, 0, tc, 0f);
            Arrays.fill(dk, 0, tc, 0f);
            Arrays.fill(dv, 0, tc, 0f);
            Arrays.fill(dkk, 0, tc, 0f);
            Arrays.fill(da, 0, tc, 0f);
            Arrays.fill(dS, 0f);
            for (int t = count - 1; t >= 0; t--) {
                int prev = t * ss, next = (t + 1) * ss;
                for (int h = 0; h < heads; h++) {
                    int o = t * c + h * s;
                    Arrays.fill(dBeta, 0f);
                    // The row's new dS is dS + dy_i r, so its sums with beta and k split into the old row's and
                    // dy_i times r's, taken before the row changes: one pass over the row instead of two.
                    float rBeta = dot(r, o, beta, o, s), rK = dot(r, o, k, o, s);
                    for (int i = 0; i < s; i++) {
                        int row = h * s * s + i * s;
                        float dyi = dy[o + i], vi = v[o + i], sai = sa[o + i];
                        float dsa = dot(dS, row, beta, o, s) + dyi * rBeta;
                        dv[o + i] += dot(dS, row, k, o, s) + dyi * rK;
                        for (int j = 0; j < s; j++) {
                            float d = dS[row + j] + dyi * r[o + j];
                            float before = st[prev + row + j];
                            dr[o + j] += st[next + row + j] * dyi;
                            dw[o + j] += d * before;
                            dk[o + j] += d * vi;
                            dBeta[j] += d * sai;
                            // d alpha_j = dsa * St-1[i][j]; alpha = -kk.
                            dkk[o + j] -= dsa * before;
                            dS[row + j] = d * w[o + j] - dsa * kk[o + j];
                        }
                    }
                    for (int j = 0; j < s; j++) {
                        dkk[o + j] += dBeta[j] * a[o + j];
                        da[o + j] += dBeta[j] * kk[o + j];
                    }
                }
            }
            for (int i = 0; i < tc; i++) {
                drOut[i] += dr[i];
                dwOut[i] += dw[i];
                dkOut[i] += dk[i];
                dvOut[i] += dv[i];
                dkkOut[i] += dkk[i];
                daOut[i] += da[i];
            }
        }

        private static float dot(float[] a, int ao, float[] b, int bo, int n) {
            return FloatDot.KERNEL.dot(a, ao, b, bo, n);
        }

        private static void toFloat(double[] from, float[] to, int n) {
            toFloat(from, 0, to, n);
        }

        private static void toFloat(double[] from, int at, float[] to, int n) {
            for (int i = 0; i < n; i++) {
                to[i] = (float) from[at + i];
            }
        }
    }
}
