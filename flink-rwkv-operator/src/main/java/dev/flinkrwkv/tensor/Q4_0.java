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
 * Q4_0: a half scale d, then 32 nibbles q; a value is {@code (q - 8)*d}. Encoded with d the block's value
 * of largest magnitude over -8, quants clamped to 15.
 */
public final class Q4_0 extends NibbleBlocks {
    public Q4_0() {
        super("Q4_0", 18, false, 2, -1, 8);
    }

    @Override
    void encodeBlock(float[] x, int o, ByteBuffer out) {
        symmetric(x, o, out, -8f, 15, false);
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
            for (int i = 0; i < k; i += 32, p += 18) {
                float sc = half(d, p);
                ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 2, LE);
                for (int part = 0; part < PARTS; part++) {
                    acc = floats(q4(qs, part, 8))
                            .mul(sc).fma(FloatVector.fromArray(F, x, xo + i + L * part), acc);
                }
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        @Override
        public void decode(ByteBuffer d, int p, int k, float[] w, int wo) {
            for (int i = 0; i < k; i += 32, p += 18) {
                float sc = half(d, p);
                ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 2, LE);
                for (int part = 0; part < PARTS; part++) {
                    floats(q4(qs, part, 8))
                            .mul(sc).intoArray(w, wo + i + L * part);
                }
            }
        }
    }
}
