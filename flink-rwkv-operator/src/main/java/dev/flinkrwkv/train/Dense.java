package dev.flinkrwkv.train;

/**
 * The dense steps of the training passes in double precision, over T rows at a time: matrix products and
 * their gradients, LayerNorm and its gradient. Matrices are row-major {@code rows x cols} at an offset of
 * the flat parameter (or gradient) array, {@code y[n] = sum_k W[n][k] * x[k]} as in the model file.
 *
 * <p>The loops are ordered so that the innermost one is a scaled addition over contiguous memory, which the
 * JIT vectorizes (a dot product's reduction it does not).
 */
final class Dense {
    private Dense() {}

    /**
     * {@code y[t] = W · x[t]} for t in [0, count): x rows of {@code cols}, y rows of {@code rows}, with W
     * given transposed ({@code wT[wOff + k*rows + n] = W[n][k]}, see {@link #transpose}) so that the inner
     * loop is a scaled addition of contiguous rows rather than a dot product, which the JIT cannot vectorize.
     */
    static void mul(double[] wT, int wOff, int rows, int cols, double[] x, double[] y, int count) {
        for (int t = 0; t < count; t++) {
            int xo = t * cols, yo = t * rows;
            java.util.Arrays.fill(y, yo, yo + rows, 0);
            int k = 0;
            for (; k + 3 < cols; k += 4) {
                double x0 = x[xo + k], x1 = x[xo + k + 1], x2 = x[xo + k + 2], x3 = x[xo + k + 3];
                int w0 = wOff + k * rows, w1 = w0 + rows, w2 = w1 + rows, w3 = w2 + rows;
                for (int n = 0; n < rows; n++) {
                    y[yo + n] += x0 * wT[w0 + n] + x1 * wT[w1 + n] + x2 * wT[w2 + n] + x3 * wT[w3 + n];
                }
            }
            for (; k < cols; k++) {
                double xk = x[xo + k];
                int w0 = wOff + k * rows;
                for (int n = 0; n < rows; n++) {
                    y[yo + n] += xk * wT[w0 + n];
                }
            }
        }
    }

    /** Writes the {@code rows x cols} matrix at {@code off} of {@code w} transposed into {@code wT} at {@code off}. */
    static void transpose(double[] w, double[] wT, int off, int rows, int cols) {
        for (int n = 0; n < rows; n++) {
            for (int k = 0; k < cols; k++) {
                wT[off + k * rows + n] = w[off + n * cols + k];
            }
        }
    }

    /**
     * The gradients of {@link #mul}: {@code dx[t] += W^T · dy[t]} (skipped when dx is null) and
     * {@code dW += sum_t dy[t] x[t]^T} into {@code dw} at {@code wOff}; W here in its stored layout. Both
     * loops take four terms per pass over a row to cut the loads and stores per multiply-add.
     */
    static void mulBackward(double[] w, double[] dw, int wOff, int rows, int cols, double[] x, double[] dy,
                            double[] dx, int count) {
        for (int n = 0; n < rows; n++) {
            int wo = wOff + n * cols;
            int t = 0;
            for (; t + 3 < count; t += 4) {
                double g0 = dy[t * rows + n], g1 = dy[(t + 1) * rows + n], g2 = dy[(t + 2) * rows + n],
                        g3 = dy[(t + 3) * rows + n];
                int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
                for (int k = 0; k < cols; k++) {
                    dw[wo + k] += g0 * x[x0 + k] + g1 * x[x1 + k] + g2 * x[x2 + k] + g3 * x[x3 + k];
                }
            }
            for (; t < count; t++) {
                double g = dy[t * rows + n];
                int xo = t * cols;
                for (int k = 0; k < cols; k++) {
                    dw[wo + k] += g * x[xo + k];
                }
            }
        }
        if (dx == null) {
            return;
        }
        for (int t = 0; t < count; t++) {
            int xo = t * cols, yo = t * rows;
            int n = 0;
            for (; n + 3 < rows; n += 4) {
                double g0 = dy[yo + n], g1 = dy[yo + n + 1], g2 = dy[yo + n + 2], g3 = dy[yo + n + 3];
                int w0 = wOff + n * cols, w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
                for (int k = 0; k < cols; k++) {
                    dx[xo + k] += g0 * w[w0 + k] + g1 * w[w1 + k] + g2 * w[w2 + k] + g3 * w[w3 + k];
                }
            }
            for (; n < rows; n++) {
                double g = dy[yo + n];
                int wo = wOff + n * cols;
                for (int k = 0; k < cols; k++) {
                    dx[xo + k] += g * w[wo + k];
                }
            }
        }
    }

    /**
     * Normalizes each of {@code count} groups of {@code n} values of {@code x} (group g at {@code g*n}) to
     * zero mean and unit variance: {@code xhat = (x - mean) * rstd}, keeping {@code rstd} per group.
     */
    static void normalize(double[] x, int n, double eps, double[] xhat, double[] rstd, int count) {
        for (int g = 0; g < count; g++) {
            int o = g * n;
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += x[o + i];
            }
            mean /= n;
            double var = 0;
            for (int i = 0; i < n; i++) {
                double d = x[o + i] - mean;
                var += d * d;
            }
            var /= n;
            double r = 1 / Math.sqrt(var + eps);
            rstd[g] = r;
            for (int i = 0; i < n; i++) {
                xhat[o + i] = (x[o + i] - mean) * r;
            }
        }
    }

    /**
     * The gradient of {@link #normalize}: {@code dx += rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat*xhat))}
     * per group.
     */
    static void normalizeBackward(double[] xhat, double[] rstd, double[] dxhat, int n, double[] dx, int count) {
        for (int g = 0; g < count; g++) {
            int o = g * n;
            double m1 = 0, m2 = 0;
            for (int i = 0; i < n; i++) {
                m1 += dxhat[o + i];
                m2 += dxhat[o + i] * xhat[o + i];
            }
            m1 /= n;
            m2 /= n;
            double r = rstd[g];
            for (int i = 0; i < n; i++) {
                dx[o + i] += r * (dxhat[o + i] - m1 - xhat[o + i] * m2);
            }
        }
    }

    /** {@code y[t] = xhat[t] * w + b} over C channels (w, b at offsets of the parameter array). */
    static void scaleShift(double[] xhat, double[] p, int wOff, int bOff, double[] y, int c, int count) {
        for (int t = 0; t < count; t++) {
            for (int i = 0; i < c; i++) {
                y[t * c + i] = xhat[t * c + i] * p[wOff + i] + p[bOff + i];
            }
        }
    }

    /**
     * The gradient of {@link #scaleShift}: accumulates dw, db into {@code grad} and writes
     * {@code dxhat = dy * w} (overwritten, not accumulated).
     */
    static void scaleShiftBackward(double[] xhat, double[] p, double[] grad, int wOff, int bOff, double[] dy,
                                   double[] dxhat, int c, int count) {
        for (int t = 0; t < count; t++) {
            for (int i = 0; i < c; i++) {
                double g = dy[t * c + i];
                grad[wOff + i] += g * xhat[t * c + i];
                grad[bOff + i] += g;
                dxhat[t * c + i] = g * p[wOff + i];
            }
        }
    }
}
