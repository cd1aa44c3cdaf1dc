package dev.flinkrwkv.tensor;

import java.nio.ByteBuffer;

/** Vector kernels whose mapped single stream is one row's dot product after another ({@link #dotRow}). */
abstract class RowKernels implements VectorKernels {
    @Override
    public void dots(ByteBuffer d, long rowBytes, int k, float[] x, int xo, float[] y, int yo, int r0, int r1) {
        for (int n = r0; n < r1; n++) {
            y[yo + n] = dotRow(d, Math.toIntExact(n * rowBytes), k, x, xo);
        }
    }

    /** The dot product of the row of {@code k} values at byte {@code p} with {@code x[xo ..]}. */
    abstract float dotRow(ByteBuffer d, int p, int k, float[] x, int xo);
}
