package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.model.TensorType;
import jcuda.driver.CUdeviceptr;

/**
 * A weight matrix on the device: {@code rows} rows of {@code cols} values, FP32 or FP16, row-major
 * (ggml's (out, in) layout as in the file), starting {@code byteOffset} bytes into an allocation (a slab
 * of a 3-D tensor shares its tensor's allocation).
 */
final class DeviceMatrix {
    private final CUdeviceptr base;
    private final long byteOffset;
    private final TensorType type;
    private final int rows;
    private final int cols;

    DeviceMatrix(CUdeviceptr base, long byteOffset, TensorType type, int rows, int cols) {
        if (type != TensorType.FP32 && type != TensorType.FP16) {
            throw new IllegalArgumentException("device matrices are FP32 or FP16, not " + type);
        }
        this.base = base;
        this.byteOffset = byteOffset;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
    }

    /** Rows {@code [first, first + count)} of this matrix. */
    DeviceMatrix rows(int first, int count) {
        return new DeviceMatrix(base, byteOffset + (long) first * cols * elementBytes(), type, count, cols);
    }

    CUdeviceptr ptr() {
        return byteOffset == 0 ? base : base.withByteOffset(byteOffset);
    }

    long byteOffset() {
        return byteOffset;
    }

    TensorType type() {
        return type;
    }

    boolean isHalf() {
        return type == TensorType.FP16;
    }

    int rows() {
        return rows;
    }

    int cols() {
        return cols;
    }

    int elementBytes() {
        return type == TensorType.FP16 ? 2 : 4;
    }

    /** Bytes one product reads. */
    long bytes() {
        return (long) rows * cols * elementBytes();
    }
}
