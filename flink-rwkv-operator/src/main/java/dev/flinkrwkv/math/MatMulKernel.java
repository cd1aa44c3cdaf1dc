package dev.flinkrwkv.math;

/**
 * How a {@link Matrix} product is computed. One implementation is chosen per process: the scalar one
 * here, which decodes each weight row once into a scratch row and takes its dot product with every input
 * of the batch, so a batch reads the weights once.
 */
public abstract class MatMulKernel {
    private static volatile MatMulKernel instance = new ScalarMatMul();

    public static MatMulKernel get() {
        return instance;
    }

    /** Replaces the process-wide kernel (for benchmarks and tests that compare kernels). */
    public static void set(MatMulKernel kernel) {
        instance = kernel;
    }

    /** A short name for logs and benchmark tables. */
    public abstract String name();

    /** Computes rows {@code [r0, r1)} of the batched product (see {@link Matrix#mul}). */
    public abstract void mul(Matrix m, float[] x, int xOff, int xStride, float[] y, int yOff, int yStride,
                             int batch, int r0, int r1);

    /** Plain Java: dequantize a row, then dot it with each input. */
    static final class ScalarMatMul extends MatMulKernel {
        private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[0]);

        @Override
        public String name() {
            return "scalar";
        }

        @Override
        public void mul(Matrix m, float[] x, int xOff, int xStride, float[] y, int yOff, int yStride,
                        int batch, int r0, int r1) {
            int k = m.cols();
            float[] row = ROW.get();
            if (row.length < k) {
                row = new float[k];
                ROW.set(row);
            }
            for (int n = r0; n < r1; n++) {
                m.row(n, row, 0);
                for (int b = 0; b < batch; b++) {
                    y[yOff + b * yStride + n] = dot(row, x, xOff + b * xStride, k);
                }
            }
        }

        static float dot(float[] w, float[] x, int xo, int k) {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int i = 0;
            for (; i + 3 < k; i += 4) {
                s0 += w[i] * x[xo + i];
                s1 += w[i + 1] * x[xo + i + 1];
                s2 += w[i + 2] * x[xo + i + 2];
                s3 += w[i + 3] * x[xo + i + 3];
            }
            for (; i < k; i++) {
                s0 += w[i] * x[xo + i];
            }
            return (s0 + s1) + (s2 + s3);
        }
    }
}
