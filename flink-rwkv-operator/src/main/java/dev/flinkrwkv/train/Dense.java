package dev.flinkrwkv.train;

/**
 * The dense steps of the training passes in double precision, over T rows at a time: matrix products and
 * their gradients, LayerNorm and its gradient. Matrices are row-major {@code rows x cols} at an offset of
 * the flat parameter (or gradient) array, {@code y[n] = sum_k W[n][k] * x[k]} as in the model file.
 *
 * <p>The loops are ordered so that the innermost one runs over contiguous memory (a dot product in the
 * forward pass, scaled additions in the backward pass), which the JIT vectorizes.
 */
final class Dense {
    private Dense() {}

    /** {@code y[t] = W · x[t]} for t in [0, count): x rows of {@code cols}, y rows of {@code rows}. */
    static void mul(double[] w, int wOff, int rows, int cols, double[] x, double[] y, int count) {
        for (int t = 0; t < count; t++) {
            int xo = t * cols, yo = t * rows;
            for (int n = 0; n < rows; n++) {
                int wo = wOff + n * cols;
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                int k = 0;
                for (; k + 3 < cols; k += 4) {
                    s0 += w[wo + k] * x[xo + k];
                    s1 += w[wo + k + 1] * x[xo + k + 1];
                    s2 += w[wo + k + 2] * x[xo + k + 2];
                    s3 += w[wo + k + 3] * x[xo + k + 3];
                }
                for (; k < cols; k++) {
                    s0 += w[wo + k] * x[xo + k];
                }
                y[yo + n] = (s0 + s1) + (s2 + s3);
            }
        }
    }

    /**
     * The gradients of {@link #mul}: {@code dx[t] += W^T · dy[t]} (skipped when dx is null) and
     * {@code dW += sum_t dy[t] x[t]^T} into {@code dw} at {@code wOff}.
     */
    static void mulBackward(double[] w, double[] dw, int wOff, int rows, int cols, double[] x, double[] dy,
                            double[] dx, int count) {
        for (int n = 0; n < rows; n++) {
            int wo = wOff + n * cols;
            for (int t = 0; t < count; t++) {
                double g = dy[t * rows + n];
                if (g == 0) {
                    continue;
                }
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
            for (int n = 0; n < rows; n++) {
                double g = dy[yo + n];
                if (g == 0) {
                    continue;
                }
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
