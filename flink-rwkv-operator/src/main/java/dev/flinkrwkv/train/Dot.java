package dev.flinkrwkv.train;

/**
 * The dot products of the WKV recurrence in double precision: {@code sum_j a[ao + j] * b[bo + j]} over four
 * partial sums, partial l taking the j with {@code j % 4 == l} in ascending order (each term rounded, then
 * added), the tail past the last multiple of 4 going to partial 0, and the result {@code (p0 + p1) + (p2 +
 * p3)}. Four independent chains instead of one long chain of dependent additions; the Vector API kernel
 * ({@code DotVector}, when the {@code jdk.incubator.vector} module is present) keeps the four partials in
 * the lanes of one 256-bit vector, so both give the same bits.
 */
abstract class Dot {
    /** The process-wide kernel (see {@link FloatGemm#vectorKernel} for the choice). */
    static final Dot KERNEL = FloatGemm.vectorKernel("dev.flinkrwkv.train.DotVector", Dot.class, new Scalar());

    abstract double dot(double[] a, int ao, double[] b, int bo, int n);

    static final class Scalar extends Dot {
        @Override
        double dot(double[] a, int ao, double[] b, int bo, int n) {
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int j = 0;
            for (; j + 3 < n; j += 4) {
                s0 += a[ao + j] * b[bo + j];
                s1 += a[ao + j + 1] * b[bo + j + 1];
                s2 += a[ao + j + 2] * b[bo + j + 2];
                s3 += a[ao + j + 3] * b[bo + j + 3];
            }
            for (; j < n; j++) {
                s0 += a[ao + j] * b[bo + j];
            }
            return (s0 + s1) + (s2 + s3);
        }
    }
}
