package dev.flinkrwkv.train;

/**
 * The float32 WKV recurrence's work for one head at one token ({@link WkvRecurrence#float32}), forward and
 * backward. Its dot products sum as {@link FloatDot} does and every other value is one product or sum of
 * two terms per element, so the Vector API kernel ({@code WkvKernelVector}, when the
 * {@code jdk.incubator.vector} module is present and the head size is a multiple of 8) gives the same bits as
 * the plain-Java one. The JIT does not vectorize the plain loops by itself: each writes several arrays at
 * offsets it cannot tell apart.
 */
abstract class WkvKernel {
    /** The plain-Java kernel; also the reference the vector kernel is tested against. */
    static final WkvKernel SCALAR = new Scalar();
    private static final WkvKernel PREFERRED = FloatGemm.vectorKernel("dev.flinkrwkv.train.WkvKernelVector",
            WkvKernel.class, SCALAR);

    /** The kernel for heads of {@code headSize}: the vector one takes whole vectors of 8 floats only. */
    static WkvKernel forHeadSize(int headSize) {
        return headSize % 8 == 0 ? PREFERRED : SCALAR;
    }

    /** One layer's forward inputs (T rows of C), its states (index t+1 after token t) and {@code St-1 alpha}. */
    static final class Layer {
        final float[] kk, a, beta, w, k, v, r, states, sa;
        /** Scratch for a kernel's horizontal sums (one vector's lanes). */
        final float[] lanes = new float[8];

        Layer(int capacity, int c, int s) {
            int tc = capacity * c;
            kk = new float[tc];
            a = new float[tc];
            beta = new float[tc];
            w = new float[tc];
            k = new float[tc];
            v = new float[tc];
            r = new float[tc];
            states = new float[(capacity + 1) * c * s];
            sa = new float[tc];
        }
    }

    /** The backward pass's dy and gradients (T rows of C), the state gradient, one head's d beta. */
    static final class Gradients {
        final float[] dy, dr, dw, dk, dv, dkk, da, dS, dBeta;

        Gradients(int capacity, int c, int s) {
            int tc = capacity * c;
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
    }

    /**
     * Head h's state (S rows of S from {@code rows}) after the token whose values start at {@code o}:
     * {@code St = St-1 diag(w) + v k^T + (St-1 alpha) beta^T} from the state at {@code prev} into the one at
     * {@code next}, with {@code sa = St-1 alpha} and {@code y = St r}.
     */
    abstract void forward(Layer x, int s, int o, int rows, int prev, int next, double[] y);

    /**
     * The same head and token in reverse: takes dS (the state gradient after the token) back to before it and
     * adds to dr, dw, dk, dv, dkk and da.
     */
    abstract void backward(Layer x, Gradients g, int s, int o, int rows, int prev, int next);

    /**
     * The head's d beta (accumulated in {@code g.dBeta} by {@link #backward}) into dkk and da: beta = kk * a.
     * Plain Java in both kernels: one pass over S values (as Vector API code the JIT left its vectors boxed).
     */
    static void betaBackward(Layer x, Gradients g, int s, int o) {
        float[] kk = x.kk, a = x.a, dBeta = g.dBeta, dkk = g.dkk, da = g.da;
        for (int j = 0; j < s; j++) {
            dkk[o + j] += dBeta[j] * a[o + j];
            da[o + j] += dBeta[j] * kk[o + j];
        }
    }

    private static final class Scalar extends WkvKernel {
        @Override
        void forward(Layer x, int s, int o, int rows, int prev, int next, double[] y) {
            float[] kk = x.kk, beta = x.beta, w = x.w, k = x.k, v = x.v, r = x.r, st = x.states, sa = x.sa;
            for (int i = 0; i < s; i++) {
                int row = rows + i * s;
                float sai = -dot(kk, o, st, prev + row, s);
                sa[o + i] = sai;
                float vi = v[o + i];
                for (int j = 0; j < s; j++) {
                    st[next + row + j] = st[prev + row + j] * w[o + j] + vi * k[o + j] + sai * beta[o + j];
                }
                y[o + i] = dot(st, next + row, r, o, s);
            }
        }

        @Override
        void backward(Layer x, Gradients g, int s, int o, int rows, int prev, int next) {
            float[] kk = x.kk, beta = x.beta, w = x.w, k = x.k, v = x.v, r = x.r, st = x.states, sa = x.sa;
            float[] dy = g.dy, dr = g.dr, dw = g.dw, dk = g.dk, dv = g.dv, dkk = g.dkk, dS = g.dS,
                    dBeta = g.dBeta;
            java.util.Arrays.fill(dBeta, 0, s, 0f);
            // The row's new dS is dS + dy_i r, so its sums with beta and k split into the old row's and dy_i
            // times r's, taken before the row changes: one pass over the row instead of two.
            float rBeta = dot(r, o, beta, o, s), rK = dot(r, o, k, o, s);
            for (int i = 0; i < s; i++) {
                int row = rows + i * s;
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
            betaBackward(x, g, s, o);
        }

        private static float dot(float[] a, int ao, float[] b, int bo, int n) {
            return FloatDot.KERNEL.dot(a, ao, b, bo, n);
        }
    }
}
