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
 * Q5_0: a half scale d, 32 fifth bits, then 32 nibbles; a value is {@code (q - 16)*d}. Encoded with d the
 * block's value of largest magnitude over -16, quants clamped to 31.
 */
public final class Q5_0 extends NibbleBlocks {
    public Q5_0() {
        super("Q5_0", 22, false, 6, 2, 16);
    }

    @Override
    void encodeBlock(float[] x, int o, ByteBuffer out) {
        symmetric(x, o, out, -16f, 31, true);
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
            for (int i = 0; i < k; i += 32, p += 22) {
                float sc = half(d, p);
                int qh = d.getInt(p + 2);
                ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 6, LE);
                for (int part = 0; part < PARTS; part++) {
                    acc = floats(q5(qs, qh, part, 16))
                            .mul(sc).fma(FloatVector.fromArray(F, x, xo + i + L * part), acc);
                }
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        @Override
        public void decode(ByteBuffer d, int p, int k, float[] w, int wo) {
            for (int i = 0; i < k; i += 32, p += 22) {
                float sc = half(d, p);
                int qh = d.getInt(p + 2);
                ByteVector qs = ByteVector.fromByteBuffer(B16, d, p + 6, LE);
                for (int part = 0; part < PARTS; part++) {
                    floats(q5(qs, qh, part, 16))
                            .mul(sc).intoArray(w, wo + i + L * part);
                }
            }
        }
    }
}
