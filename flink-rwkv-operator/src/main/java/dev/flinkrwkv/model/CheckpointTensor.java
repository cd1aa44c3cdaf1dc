package dev.flinkrwkv.model;

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
    float get(long i) {
        int p = Math.toIntExact(i * dtype.bytes);
        switch (dtype) {
            case F32: return data.getFloat(p);
            case F16: return Half.toFloat(data.getShort(p));
            default: return BFloat16.toFloat(data.getShort(p));
        }
    }

    String shapeString() {
        return Arrays.toString(shape);
    }
}
