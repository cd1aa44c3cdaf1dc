package dev.flinkrwkv.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.nio.ByteBuffer;

import static dev.flinkrwkv.tensor.Lanes.B16;
import static dev.flinkrwkv.tensor.Lanes.F;
import static dev.flinkrwkv.tensor.Lanes.L;
import static dev.flinkrwkv.tensor.Lanes.LE;
import static dev.flinkrwkv.tensor.Lanes.PARTS;
import static dev.flinkrwkv.tensor.Lanes.floats;
import static dev.flinkrwkv.tensor.Lanes.half;
import static dev.flinkrwkv.tensor.Lanes.q5;

/**
 * Q5_1: a half scale d and a half minimum m, 32 fifth bits, then 32 nibbles; a value is {@code q*d + m}.
 * Encoded over the block's range in 31 steps; ggml does not clamp these quants (the 5-bit value is taken
 * as it comes, masked), so neither does this.
 */
public final class Q5_1 extends NibbleBlocks {
    public Q5_1() {
        super("Q5_1", 24, true, 8, 4, 0);
    }

    @Override
    void encodeBlock(float[] x, int o, ByteBuffer out) {
        withMin(x, o, out, 31, Integer.MAX_VALUE, true);
    }

    @Override
    public VectorKernels vectorKernels() {
        return Vectors.INSTANCE;
    }

    /** Loaded on first use only (see {@link VectorKernels}). */
    private static final class Vectors extends Blocks.Vectors {
        static final Vectors INSTANCE = new Vectors();

        @Override
        float dotRow(ByteBuffer d, int p, int k, float[] x, int xo) {
            FloatVector acc = FloatVector.zero(F);
            for (int i = 0; i < k; i += 32, p += 24) {
                float sc = half(d, p);
                float mn = half(d, p + 2);
                int qh = d.getInt(p + 4);
                ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 8, LE);
                for (int part = 0; part < PARTS; part++) {
                    acc = floats(q5(qs, qh, part, 0))
                            .fma(sc, mn).fma(FloatVector.fromArray(F, x, xo + i + L * part), acc);
                }
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        @Override
        public void decode(ByteBuffer d, int p, int k, float[] w, int wo) {
            for (int i = 0; i < k; i += 32, p += 24) {
                float sc = half(d, p);
                float mn = half(d, p + 2);
                int qh = d.getInt(p + 4);
                ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 8, LE);
                for (int part = 0; part < PARTS; part++) {
                    floats(q5(qs, qh, part, 0))
                            .fma(sc, mn).intoArray(w, wo + i + L * part);
                }
            }
        }
    }
}
