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
 *       backward pass streams through, and eight lanes a vector in the Vector API kernel ({@link WkvKernel}).
 *       Its dot products sum eight fixed partials ({@link FloatDot}) and no loop reorders a sum, so the result
 *       is the same bits on every machine, with or without the Vector API.
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

    /**
     * The same recurrence over float32 copies, one head and token at a time in a {@link WkvKernel}; the
     * gradients are summed in float, then added.
     */
    private static final class Float32 extends WkvRecurrence {
        private final WkvKernel kernel;
        private final WkvKernel.Layer[] layers;
        private final WkvKernel.Gradients g;
        private int count;

        Float32(Rwkv7Shape shape, int capacity) {
            super(shape, capacity);
            kernel = WkvKernel.forHeadSize(s);
            layers = new WkvKernel.Layer[shape.layers()];
            for (int l = 0; l < layers.length; l++) {
                layers[l] = new WkvKernel.Layer(capacity, c, s);
            }
            g = new WkvKernel.Gradients(capacity, c, s);
        }

        @Override
        void forward(int layer, int n, double[] kkIn, double[] aIn, double[] wIn, double[] kIn, double[] vIn,
                     double[] rIn, double[] state, int at, double[] y) {
            int tc = n * c, ss = c * s;
            WkvKernel.Layer x = layers[layer];
            toFloat(kkIn, x.kk, tc);
            toFloat(aIn, x.a, tc);
            toFloat(wIn, x.w, tc);
            toFloat(kIn, x.k, tc);
            toFloat(vIn, x.v, tc);
            toFloat(rIn, x.r, tc);
            for (int i = 0; i < tc; i++) {
                x.beta[i] = x.kk[i] * x.a[i];
            }
            toFloat(state, at, x.states, ss);
            count = n;
            for (int t = 0; t < n; t++) {
                for (int h = 0; h < heads; h++) {
                    kernel.forward(x, s, t * c + h * s, h * s * s, t * ss, (t + 1) * ss, y);
                }
            }
            for (int i = 0; i < ss; i++) {
                state[at + i] = x.states[n * ss + i];
            }
        }

        @Override
        void backward(int layer, double[] dyIn, double[] drOut, double[] dwOut, double[] dkOut, double[] dvOut,
                      double[] dkkOut, double[] daOut) {
            int tc = count * c, ss = c * s;
            WkvKernel.Layer x = layers[layer];
            toFloat(dyIn, 0, g.dy, tc);
            Arrays.fill(g.dr, 0, tc, 0f);
            Arrays.fill(g.dw, 0, tc, 0f);
            Arrays.fill(g.dk, 0, tc, 0f);
            Arrays.fill(g.dv, 0, tc, 0f);
            Arrays.fill(g.dkk, 0, tc, 0f);
            Arrays.fill(g.da, 0, tc, 0f);
            Arrays.fill(g.dS, 0f);
            for (int t = count - 1; t >= 0; t--) {
                for (int h = 0; h < heads; h++) {
                    kernel.backward(x, g, s, t * c + h * s, h * s * s, t * ss, (t + 1) * ss);
                }
            }
            for (int i = 0; i < tc; i++) {
                drOut[i] += g.dr[i];
                dwOut[i] += g.dw[i];
                dkOut[i] += g.dk[i];
                dvOut[i] += g.dv[i];
                dkkOut[i] += g.dkk[i];
                daOut[i] += g.da[i];
            }
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
