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
import static dev.flinkrwkv.tensor.Lanes.q4;

/**
 * Q4_1: a half scale d and a half minimum m, then 32 nibbles q; a value is {@code q*d + m}. Encoded over
 * the block's range in 15 steps, quants clamped to 15.
 */
public final class Q4_1 extends NibbleBlocks {
    public Q4_1() {
        super("Q4_1", 20, true, 4, -1, 0);
    }

    @Override
    void encodeBlock(float[] x, int o, ByteBuffer out) {
        withMin(x, o, out, 15, 15, false);
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
            for (int i = 0; i < k; i += 32, p += 20) {
                float sc = half(d, p);
                float mn = half(d, p + 2);
                ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 4, LE);
                for (int part = 0; part < PARTS; part++) {
                    acc = floats(q4(qs, part, 0))
                            .fma(sc, mn).fma(FloatVector.fromArray(F, x, xo + i + L * part), acc);
                }
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        @Override
        public void decode(ByteBuffer d, int p, int k, float[] w, int wo) {
            for (int i = 0; i < k; i += 32, p += 20) {
                float sc = half(d, p);
                float mn = half(d, p + 2);
                ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 4, LE);
                for (int part = 0; part < PARTS; part++) {
                    floats(q4(qs, part, 0))
                            .fma(sc, mn).intoArray(w, wo + i + L * part);
                }
            }
        }
    }
}
