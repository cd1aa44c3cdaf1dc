package dev.flinkrwkv.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.nio.ByteBuffer;

import static dev.flinkrwkv.tensor.Lanes.F;
import static dev.flinkrwkv.tensor.Lanes.L;
import static dev.flinkrwkv.tensor.Lanes.LE;

/** float32, stored as is. Not packed: the vector kernel reads it from the file at the bandwidth already. */
public final class Fp32 extends Storage {
    public Fp32() {
        super("FP32", 1, 4);
    }

    @Override
    public void decode(ByteBuffer src, long pos, int n, float[] out, int off) {
        int p = Math.toIntExact(pos);
        for (int i = 0; i < n; i++) {
            out[off + i] = src.getFloat(p + 4 * i);
        }
    }

    @Override
    void encodeValues(float[] x, int off, int n, ByteBuffer out) {
        out.asFloatBuffer().put(x, off, n); // bulk copy; the view shares out's little-endian order
        out.position(out.position() + 4 * n);
    }

    @Override
    public VectorKernels vectorKernels() {
        return Vectors.INSTANCE;
    }

    /** Loaded on first use only (see {@link VectorKernels}). */
    private static final class Vectors implements VectorKernels {
        static final Vectors INSTANCE = new Vectors();

        /**
         * The whole range in one method, a unit C2 compiles on its own (see {@link SixteenBit.Vectors#packedDots}),
         * each dot product unrolled by hand, four steps per iteration, the sum's order unchanged. Why unrolled:
         * C2 unrolls a loop only as far as the trip count it has profiled, and the small FP32 matrices of a
         * model (RWKV-7's low-rank projections, 64 values per row) teach it that this loop is short; the head
         * (768+ values per row, a third or more of a step's bytes) then ran a loop with its bounds checks on
         * every 8 values, well under the bandwidth.
         */
        @Override
        public void dots(ByteBuffer d, long rowBytes, int k, float[] x, int xo, float[] y, int yo, int r0, int r1) {
            int vk = k - k % L;
            for (int n = r0; n < r1; n++) {
                int p = Math.toIntExact(n * rowBytes);
                FloatVector acc = FloatVector.zero(F);
                int i = 0;
                for (; i + 4 * L <= vk; i += 4 * L) {
                    acc = FloatVector.fromByteBuffer(F, d, p + 4 * i, LE).fma(FloatVector.fromArray(F, x, xo + i), acc);
                    acc = FloatVector.fromByteBuffer(F, d, p + 4 * i + 32, LE).fma(FloatVector.fromArray(F, x, xo + i + L), acc);
                    acc = FloatVector.fromByteBuffer(F, d, p + 4 * i + 64, LE).fma(FloatVector.fromArray(F, x, xo + i + 2 * L), acc);
                    acc = FloatVector.fromByteBuffer(F, d, p + 4 * i + 96, LE).fma(FloatVector.fromArray(F, x, xo + i + 3 * L), acc);
                }
                for (; i < vk; i += L) {
                    acc = FloatVector.fromByteBuffer(F, d, p + 4 * i, LE).fma(FloatVector.fromArray(F, x, xo + i), acc);
                }
                float s = acc.reduceLanes(VectorOperators.ADD);
                for (i = vk; i < k; i++) {
                    s += d.getFloat(p + 4 * i) * x[xo + i];
                }
                y[yo + n] = s;
            }
        }

        @Override
        public void decode(ByteBuffer d, int p, int k, float[] w, int wo) {
            int vk = k - k % L;
            for (int i = 0; i < vk; i += L) {
                FloatVector.fromByteBuffer(F, d, p + 4 * i, LE).intoArray(w, wo + i);
            }
            for (int i = vk; i < k; i++) {
                w[wo + i] = d.getFloat(p + 4 * i);
            }
        }

        @Override
        public void packedDots(PackedRows packed, float[] x, int xo, float[] y, int yo, int r0, int r1) {
            throw new UnsupportedOperationException("FP32 rows are not packed");
        }

        @Override
        public void packedDecode(PackedRows packed, int n, float[] w, int wo) {
            throw new UnsupportedOperationException("FP32 rows are not packed");
        }
    }
}
