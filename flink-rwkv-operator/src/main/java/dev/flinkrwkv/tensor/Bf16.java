package dev.flinkrwkv.tensor;

/**
 * bfloat16 ({@link BFloat16}), rounded to nearest even. Not an rwkv.cpp type: flink-rwkv's files give it a
 * code of their own.
 */
public final class Bf16 extends SixteenBit {
    public Bf16() {
        super("BF16");
    }

    @Override
    float toFloat(short h) {
        return BFloat16.toFloat(h);
    }

    @Override
    short fromFloat(float f) {
        return BFloat16.fromFloat(f);
    }

    @Override
    public VectorKernels vectorKernels() {
        return Widened.KERNELS;
    }

    /**
     * The widening of the top half of a float32: shifted left by 16 it is that float; the mask keeps every
     * bit and the multiplication by 1 changes no value (a NaN stays a NaN), so every bfloat16 decodes
     * exactly, infinities included. A holder, so the kernels are loaded on first use only.
     */
    private static final class Widened {
        static final VectorKernels KERNELS = new SixteenBit.Vectors(16, -1, 1f);
    }
}
