package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.model.Tensor;
import dev.flinkrwkv.model.TensorType;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32;

/**
 * Device allocations owned together (a model's weights, a session's scratch), freed together. Uploads
 * tensors: FP32 and FP16 matrices as stored, quantized matrices dequantized to FP32 (exactly the values the
 * CPU path multiplies with), every other tensor as float32.
 */
final class DeviceMemory {
    private final List<CUdeviceptr> allocations = new ArrayList<>();
    private long bytes;

    /** A fresh allocation of {@code n} bytes (at least 4), zeroed. */
    CUdeviceptr alloc(long n) {
        long size = Math.max(4, (n + 3) / 4 * 4);
        CUdeviceptr p = new CUdeviceptr();
        cuMemAlloc(p, size);
        cuMemsetD32(p, 0, size / 4);
        allocations.add(p);
        bytes += size;
        return p;
    }

    CUdeviceptr floats(long n) {
        return alloc(n * Float.BYTES);
    }

    CUdeviceptr upload(float[] values) {
        CUdeviceptr p = floats(values.length);
        cuMemcpyHtoD(p, Pointer.to(values), (long) values.length * Float.BYTES);
        return p;
    }

    /** A tensor's values as float32 (vectors and the small 3-D parameter tensors). */
    CUdeviceptr vector(Tensor t) {
        return upload(t.toFloats());
    }

    /** A 2-D (or 3-D, all slabs stacked) tensor as a matrix of {@code t.rows()} rows of {@code t.cols()}. */
    DeviceMatrix matrix(Tensor t) {
        if (t.type() == TensorType.FP32 || t.type() == TensorType.FP16) {
            ByteBuffer d = t.data();
            byte[] raw = new byte[Math.toIntExact(t.byteSize())];
            d.get(raw);
            CUdeviceptr p = alloc(raw.length);
            cuMemcpyHtoD(p, Pointer.to(raw), raw.length);
            return new DeviceMatrix(p, 0, t.type(), t.rows(), t.cols());
        }
        return new DeviceMatrix(upload(t.toFloats()), 0, TensorType.FP32, t.rows(), t.cols());
    }

    long bytes() {
        return bytes;
    }

    void freeAll() {
        for (CUdeviceptr p : allocations) {
            cuMemFree(p);
        }
        allocations.clear();
        bytes = 0;
    }
}
