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
}
