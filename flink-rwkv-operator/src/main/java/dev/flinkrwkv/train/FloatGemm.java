package dev.flinkrwkv.train;

/**
 * The float32 matrix product of the fast training passes, {@code c = a · b} with a {@code m x k} (element
 * (i, p) at {@code a[i * rowStride + p * colStride]}, so that a row-major matrix and the transpose of one are
 * read alike), b {@code k x n} row-major at an offset, and c {@code m x n} row-major. Every element is
 * summed the same way in every implementation:
 * {@code c[i][j] = fma(a[i][k-1], b[k-1][j], ... fma(a[i][0], b[0][j], 0))}, k ascending, one rounding per
 * step. The Vector API kernel ({@code FloatGemmVector}, used when the
 * {@code jdk.incubator.vector} module is present) computes exactly these values in 8 lanes at once (lanes
 * never mix, so there is no reduction whose order could differ), which makes a fitted model the same bits
 * with and without the module.
 */
abstract class FloatGemm {
    /** The process-wide kernel: the Vector API one when its module is in the boot layer, else plain Java. */
    static FloatGemm get() {
        return Selection.INSTANCE;
    }

    abstract void multiply(float[] a, int rowStride, int colStride, int m, int k, float[] b, int bOff, int n,
                           float[] c);

    /** The plain-Java kernel; also the reference the vector kernel is tested against. */
    static final class Scalar extends FloatGemm {
        @Override
        void multiply(float[] a, int rowStride, int colStride, int m, int k, float[] b, int bOff, int n,
                      float[] c) {
            java.util.Arrays.fill(c, 0, m * n, 0f);
            for (int i = 0; i < m; i++) {
                int co = i * n;
                for (int p = 0; p < k; p++) {
                    float av = a[i * rowStride + p * colStride];
                    int bo = bOff + p * n;
                    for (int j = 0; j < n; j++) {
                        c[co + j] = Math.fma(av, b[bo + j], c[co + j]);
                    }
                }
            }
        }
    }

    /** The choice, in a holder class so that the vector class is only loaded when its module is present. */
    private static final class Selection {
        static final FloatGemm INSTANCE = vectorKernel("dev.flinkrwkv.train.FloatGemmVector", FloatGemm.class,
                new Scalar());
    }

    /**
     * The Vector API kernel {@code className} when the {@code jdk.incubator.vector} module is in the boot
     * layer (and {@code -Dflinkrwkv.kernel=scalar} is not set), else {@code plain}. The kernels of this
     * package compute the same bits either way, so the choice only changes the speed.
     */
    static <T> T vectorKernel(String className, Class<T> type, T plain) {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                && !"scalar".equalsIgnoreCase(System.getProperty("flinkrwkv.kernel", ""))) {
            try {
                return type.cast(Class.forName(className).getDeclaredConstructor().newInstance());
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                // Falls through to the plain-Java kernel, which computes the same values.
            }
        }
        return plain;
    }
}
