package dev.flinkrwkv.math;

/**
 * How a {@link Matrix} product is computed. One implementation is chosen per process at start-up and
 * logged: {@link VectorMatMul} (the Vector API) when the {@code jdk.incubator.vector} module is in the
 * boot layer (the launcher and the tests add it with {@code --add-modules jdk.incubator.vector}) and the
 * CPU has 256-bit vectors (at the width {@link dev.flinkrwkv.tensor.VectorWidth} chooses), else the
 * plain-Java scalar kernel here, which decodes each weight row once into a scratch row and takes its dot
 * product with every input of the batch. Both read the weights once per batch. The system property {@code flinkrwkv.kernel=scalar} forces the plain-Java kernel.
 *
 * <p>The vector class is only loaded by name, after the module check, so this class and the scalar
 * kernel never link against {@code jdk.incubator.vector}.
 */
public abstract class MatMulKernel {
    /** The process-wide kernel. */
    public static MatMulKernel get() {
        return Selection.instance;
    }

    /** Replaces the process-wide kernel (for benchmarks and tests that compare kernels). */
    public static void set(MatMulKernel kernel) {
        Selection.instance = kernel;
    }

    /** The plain-Java kernel (always available). */
    public static MatMulKernel scalar() {
        return Selection.SCALAR;
    }

    /** The Vector API kernel, or null when the module is absent or the CPU lacks 256-bit vectors. */
    public static MatMulKernel vector() {
        return Selection.VECTOR;
    }

    /**
     * The choice, in a holder class: initializing a kernel subclass initializes this base class first,
     * so the base class itself must not instantiate the vector subclass while it is being initialized.
     */
    private static final class Selection {
        private static final String VECTOR_MODULE = "jdk.incubator.vector";
        private static String vectorUnavailable;
        static final MatMulKernel SCALAR = new ScalarMatMul();
        static final MatMulKernel VECTOR = loadVector();
        static volatile MatMulKernel instance = choose();

        private static MatMulKernel loadVector() {
            if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
                vectorUnavailable = "module " + VECTOR_MODULE + " absent (run java with --add-modules " + VECTOR_MODULE + ")";
                return null;
            }
            try {
                return (MatMulKernel) Class.forName("dev.flinkrwkv.math.VectorMatMul").getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e;
                vectorUnavailable = "Vector API kernel unusable: " + cause;
                return null;
            }
        }

        private static MatMulKernel choose() {
            boolean forcedScalar = "scalar".equalsIgnoreCase(System.getProperty("flinkrwkv.kernel", ""));
            MatMulKernel k = VECTOR != null && !forcedScalar ? VECTOR : SCALAR;
            String why = k == VECTOR ? VECTOR_MODULE + " present"
                    : forcedScalar ? "forced by -Dflinkrwkv.kernel=scalar" : vectorUnavailable;
            // The Vector API kernel is the normal case: a line only at DEBUG, so that nothing reaches a
            // TaskManager's console (where System.Logger goes without a bridge); the Flink operator logs the
            // kernel to the TaskManager's log. The scalar fallback runs at a fraction of the speed: worth a line.
            System.getLogger(MatMulKernel.class.getName()).log(k == VECTOR ? System.Logger.Level.DEBUG : System.Logger.Level.INFO,
                    "matrix kernel: " + k.name() + " (" + why + ")");
            return k;
        }
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
