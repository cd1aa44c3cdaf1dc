package dev.flinkrwkv.math;

import dev.flinkrwkv.tensor.BFloat16;
import dev.flinkrwkv.tensor.Half;
import dev.flinkrwkv.model.TensorType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/** Random matrices in any storage type and random inputs, for kernel tests and benchmarks. */
public final class RandomWeights {
    private RandomWeights() {}

    /** Random weights of a type, in a direct buffer as a mapped file gives: for block types, random quants with scales and minimums in a sane range. */
    public static Matrix matrix(TensorType type, int rows, int cols, Random rnd) {
        int rowBytes = Math.toIntExact(type.bytesFor(cols));
        ByteBuffer b = ByteBuffer.allocateDirect(rows * rowBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows * rowBytes; i++) {
            b.put(i, (byte) rnd.nextInt(256));
        }
        for (int r = 0; r < rows; r++) {
            int p = r * rowBytes;
            switch (type) {
                case FP32:
                    for (int i = 0; i < cols; i++) {
                        b.putFloat(p + 4 * i, (float) rnd.nextGaussian());
                    }
                    break;
                case FP16:
                    for (int i = 0; i < cols; i++) {
                        // every finite half is possible, subnormals and signed zeros included
                        short h;
                        do {
                            h = (short) rnd.nextInt(65536);
                        } while ((h & 0x7C00) == 0x7C00);
                        b.putShort(p + 2 * i, rnd.nextInt(4) == 0 ? h : Half.fromFloat((float) rnd.nextGaussian()));
                    }
                    break;
                case BF16:
                    for (int i = 0; i < cols; i++) {
                        // every bfloat16 of magnitude below 2^16, subnormals and signed zeros included (larger
                        // ones would overflow the sums)
                        short h;
                        do {
                            h = (short) rnd.nextInt(65536);
                        } while (((h >> 7) & 0xFF) >= 127 + 16);
                        b.putShort(p + 2 * i, rnd.nextInt(4) == 0 ? h : BFloat16.fromFloat((float) rnd.nextGaussian()));
                    }
                    break;
                default:
                    for (int blk = 0; blk < cols / 32; blk++) {
                        int q = p + blk * type.blockBytes;
                        b.putShort(q, Half.fromFloat((float) rnd.nextGaussian() * 0.05f));
                        if (type == TensorType.Q4_1 || type == TensorType.Q5_1) {
                            b.putShort(q + 2, Half.fromFloat((float) rnd.nextGaussian() * 0.1f));
                        }
                    }
            }
        }
        return new Matrix("random " + type, type, b, rows, cols);
    }

    public static float[] floats(int n, Random rnd) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }
}
