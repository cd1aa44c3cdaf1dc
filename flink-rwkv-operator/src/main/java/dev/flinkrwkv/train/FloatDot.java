package dev.flinkrwkv.train;

/**
 * The dot products of the float32 WKV recurrence: {@code sum_j a[ao + j] * b[bo + j]} over eight partial
 * sums, partial l taking the j with {@code j % 8 == l} in ascending order (each term rounded, then added),
 * the tail past the last multiple of 8 going to partial 0, and the result
 * {@code ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7))}. The Vector API kernel ({@code FloatDotVector},
 * when the {@code jdk.incubator.vector} module is present) keeps the eight partials in the lanes of one
 * 256-bit vector, so both give the same bits.
 */
abstract class FloatDot {
    /** The process-wide kernel (see {@link FloatGemm#vectorKernel} for the choice). */
    static final FloatDot KERNEL = FloatGemm.vectorKernel("dev.flinkrwkv.train.FloatDotVector", FloatDot.class,
            new Scalar());

    abstract float dot(float[] a, int ao, float[] b, int bo, int n);

    static final class Scalar extends FloatDot {
        @Override
        float dot(float[] a, int ao, float[] b, int bo, int n) {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
            int j = 0;
            for (; j + 7 < n; j += 8) {
                s0 += a[ao + j] * b[bo + j];
                s1 += a[ao + j + 1] * b[bo + j + 1];
                s2 += a[ao + j + 2] * b[bo + j + 2];
                s3 += a[ao + j + 3] * b[bo + j + 3];
                s4 += a[ao + j + 4] * b[bo + j + 4];
                s5 += a[ao + j + 5] * b[bo + j + 5];
                s6 += a[ao + j + 6] * b[bo + j + 6];
                s7 += a[ao + j + 7] * b[bo + j + 7];
            }
            for (; j < n; j++) {
                s0 += a[ao + j] * b[bo + j];
            }
            return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        }
    }
}
