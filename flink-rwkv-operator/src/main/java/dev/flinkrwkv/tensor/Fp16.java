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
}
