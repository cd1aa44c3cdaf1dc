package dev.flinkrwkv.tensor;

import java.nio.ByteBuffer;

/** IEEE binary16 ({@link Half}), rounded to nearest even. */
public final class Fp16 extends SixteenBit {
    public Fp16() {
        super("FP16");
    }

    @Override
    float toFloat(short h) {
        return Half.toFloat(h);
    }

    @Override
    short fromFloat(float f) {
        return Half.fromFloat(f);
    }

    @Override
    public boolean halvesFinite(ByteBuffer d, long bytes) {
        return Blocks.halvesFinite(d, bytes, 2, 1);
    }

    @Override
    public VectorKernels vectorKernels() {
        return Widened.KERNELS;
    }

    /**
     * The widening for halves known to be finite (no exponent 31; {@link #halvesFinite}), subnormals
     * included: the half shifted left by 13 has the sign in bit 31 and exponent+mantissa in bits 13-27;
     * masking out bits 28-30 leaves a float that is the half's value times 2^-112, and the multiplication
     * by 2^112 is exact. A holder, so the kernels are loaded on first use only (see {@link VectorKernels}).
     */
    private static final class Widened {
        static final VectorKernels KERNELS = new SixteenBit.Vectors(13, 0x8FFFE000, 0x1p112f);
    }
}
