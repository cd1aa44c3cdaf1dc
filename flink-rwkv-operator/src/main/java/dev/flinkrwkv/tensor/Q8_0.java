package dev.flinkrwkv.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.nio.ByteBuffer;

import static dev.flinkrwkv.tensor.Lanes.F;
import static dev.flinkrwkv.tensor.Lanes.L;
import static dev.flinkrwkv.tensor.Lanes.half;
import static dev.flinkrwkv.tensor.Lanes.q8;

/**
 * Q8_0: a half scale d, then 32 signed bytes q; a value is {@code q*d}. Encoded with {@code d = amax/127}
 * and {@code q = roundf(x/d)}, which rounds ties away from zero.
 */
public final class Q8_0 extends Blocks {
    public Q8_0() {
        super("Q8_0", 34, false);
    }

    @Override
    void decodeBlock(ByteBuffer src, int p, float[] out, int o) {
        float d = Half.toFloat(src.getShort(p));
        for (int j = 0; j < VALUES; j++) {
            out[o + j] = src.get(p + 2 + j) * d;
        }
    }

    @Override
    public void quants(ByteBuffer src, int p, byte[] q, int o) {
        src.get(p + 2, q, o, VALUES);
    }

    @Override
    void encodeBlock(float[] x, int o, ByteBuffer out) {
        float amax = 0f;
        for (int j = 0; j < VALUES; j++) {
            float a = Math.abs(x[o + j]);
            amax = amax > a ? amax : a;
        }
        float d = amax / 127f;
        float id = d != 0f ? 1.0f / d : 0f;
        out.putShort(Half.fromFloat(d));
        for (int j = 0; j < VALUES; j++) {
            out.put((byte) roundHalfAwayFromZero(x[o + j] * id));
        }
    }

    /** C's {@code roundf}: to nearest, ties away from zero (Java's Math.round breaks ties upward). */
    static int roundHalfAwayFromZero(float f) {
        float a = Math.abs(f);
        float t = (float) Math.floor(a);
        if (a - t >= 0.5f) { // a - floor(a) is exact in float
            t += 1f;
        }
        return (int) (f < 0 ? -t : t);
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
            for (int i = 0; i < k; i += 32, p += 34) {
                float sc = half(d, p);
                for (int part = 0; part < 32; part += L) {
                    acc = q8(d, p + 2 + part, sc).fma(FloatVector.fromArray(F, x, xo + i + part), acc);
                }
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        @Override
        public void decode(ByteBuffer d, int p, int k, float[] w, int wo) {
            for (int i = 0; i < k; i += 32, p += 34) {
                float sc = half(d, p);
                for (int part = 0; part < 32; part += L) {
                    q8(d, p + 2 + part, sc).intoArray(w, wo + i + part);
                }
            }
        }
    }
}
