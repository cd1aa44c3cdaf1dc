package dev.flinkrwkv.tensor;

import java.nio.ByteBuffer;

/** float32, stored as is. */
public final class Fp32 extends Storage {
    public Fp32() {
        super("FP32", 1, 4);
    }

    @Override
    public void decode(ByteBuffer src, long pos, int n, float[] out, int off) {
        int p = Math.toIntExact(pos);
        for (int i = 0; i < n; i++) {
            out[off + i] = src.getFloat(p + 4 * i);
        }
    }

    @Override
    void encodeValues(float[] x, int off, int n, ByteBuffer out) {
        out.asFloatBuffer().put(x, off, n); // bulk copy; the view shares out's little-endian order
        out.position(out.position() + 4 * n);
    }
}
