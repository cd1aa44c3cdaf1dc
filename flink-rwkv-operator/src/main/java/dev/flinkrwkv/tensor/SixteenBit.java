package dev.flinkrwkv.tensor;

import java.nio.ByteBuffer;

/** The 16-bit float types, FP16 and BF16: one value in 2 bytes. */
public abstract sealed class SixteenBit extends Storage permits Fp16, Bf16 {
    SixteenBit(String name) {
        super(name, 1, 2);
    }

    /** The float value of the 16 bits {@code h}, exactly. */
    abstract float toFloat(short h);

    /** {@code f} rounded to the type, to nearest even. */
    abstract short fromFloat(float f);

    @Override
    public final boolean packs() {
        return true;
    }

    /** Two bytes per value: the 16 bits as stored. */
    @Override
    public final long packedBytes(int rows, int cols) {
        return 2 * PackedRows.paddedValues(rows, cols);
    }

    @Override
    public final PackedRows.Halves pack(ByteBuffer d, long rowBytes, int rows, int cols) {
        return new PackedRows.Halves(this, d, rowBytes, rows, cols);
    }

    @Override
    public final void decode(ByteBuffer src, long pos, int n, float[] out, int off) {
        int p = Math.toIntExact(pos);
        for (int i = 0; i < n; i++) {
            out[off + i] = toFloat(src.getShort(p + 2 * i));
        }
    }

    @Override
    final void encodeValues(float[] x, int off, int n, ByteBuffer out) {
        for (int i = 0; i < n; i++) {
            out.putShort(fromFloat(x[off + i]));
        }
    }
}
