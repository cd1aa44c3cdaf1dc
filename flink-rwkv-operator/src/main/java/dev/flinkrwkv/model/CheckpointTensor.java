package dev.flinkrwkv.model;

import dev.flinkrwkv.tensor.Half;
import dev.flinkrwkv.tensor.BFloat16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor of a PyTorch or safetensors checkpoint as stored there: its name, element type, shape in
 * PyTorch order (the last dimension varies fastest) and its bytes, contiguous, little-endian, a view of the
 * memory-mapped file.
 */
record CheckpointTensor(String name, Dtype dtype, long[] shape, ByteBuffer data) {
    /** The element types a checkpoint may hold that this reader loads. */
    enum Dtype {
        F32(4, "float32"),
        F16(2, "float16"),
        BF16(2, "bfloat16");

        final int bytes;
        final String label;

        Dtype(int bytes, String label) {
            this.bytes = bytes;
            this.label = label;
        }
    }

    CheckpointTensor {
        data = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    int dims() {
        return shape.length;
    }

    /** Value {@code i} in flat (row-major) order, widened to float exactly. */
    float get(int i) {
        int p = i * dtype.bytes; // a checkpoint tensor's bytes fit one mapping (under 2 GiB)
        return dtype == Dtype.F32 ? data.getFloat(p) : widen(dtype, data.getShort(p));
    }

    /** A 16-bit value of type {@code d} as float, exactly. */
    static float widen(Dtype d, short v) {
        return d == Dtype.F16 ? Half.toFloat(v) : BFloat16.toFloat(v);
    }

    String shapeString() {
        return Arrays.toString(shape);
    }
}
