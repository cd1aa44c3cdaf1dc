package dev.flinkrwkv.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;

/**
 * One session's scratch: device activations for up to {@link #capacity} rows (row = one token of one
 * state), and page-locked host staging buffers for tokens, states and logits (so copies can run
 * asynchronously on the session's stream). Grown on demand (doubling), never shrunk.
 */
final class Workspace {
    private final GpuModel m;
    private final DeviceMemory mem = new DeviceMemory();
    int capacity;

    // device activations, capacity x C each unless noted
    CUdeviceptr x, xn, prev, r, k, v, w, a, g, y, out, vFirst;
    final CUdeviceptr[] mix = new CUdeviceptr[6];
    CUdeviceptr hidden;   // capacity x m.hiddenWidth
    CUdeviceptr tokens;   // capacity ints
    CUdeviceptr slots;    // capacity ints: the slot table of a resident step
    CUdeviceptr states;   // gathered states of a stepBatch / stepSequence: stateCapacity x stateSize
    int stateCapacity;
    CUdeviceptr logits;   // logitsCapacity x vocab
    int logitsCapacity;

    // page-locked host staging
    private Pointer hostPtr;
    ByteBuffer host;
    private long hostBytes;

    Workspace(GpuModel m) {
        this.m = m;
    }

    void ensureRows(int n) {
        if (n <= capacity) {
            return;
        }
        int cap = Math.max(n, capacity * 2);
        freeDevice();
        long rows = (long) cap * m.c;
        x = mem.floats(rows);
        xn = mem.floats(rows);
        prev = mem.floats(rows);
        r = mem.floats(rows);
        k = mem.floats(rows);
        v = mem.floats(rows);
        w = mem.floats(rows);
        a = mem.floats(rows);
        g = mem.floats(rows);
        y = mem.floats(rows);
        out = mem.floats(rows);
        vFirst = mem.floats(rows);
        for (int i = 0; i < mix.length; i++) {
            mix[i] = mem.floats(rows);
        }
        hidden = mem.floats((long) cap * m.hiddenWidth);
        tokens = mem.alloc((long) cap * Integer.BYTES);
        slots = mem.alloc((long) cap * Integer.BYTES);
        capacity = cap;
    }

    void ensureStates(int count) {
        ensureRows(count);
        if (count > stateCapacity) {
            stateCapacity = Math.max(count, stateCapacity * 2);
            states = mem.floats((long) stateCapacity * m.stateSize); // the old one is freed with the rest
        }
    }

    void ensureLogits(int rows) {
        ensureRows(rows);
        if (rows > logitsCapacity) {
            logitsCapacity = Math.max(rows, logitsCapacity * 2);
            logits = mem.floats((long) logitsCapacity * m.vocab);
        }
    }

    /** The host staging buffer, at least {@code bytes} long (contents not kept on growth). */
    ByteBuffer host(long bytes) {
        if (bytes > hostBytes) {
            freeHost();
            hostBytes = Math.max(bytes, hostBytes * 2);
            hostPtr = new Pointer();
            cuMemAllocHost(hostPtr, hostBytes);
            host = hostPtr.getByteBuffer(0, hostBytes).order(ByteOrder.nativeOrder());
        }
        host.clear();
        return host;
    }

    /** The staging buffer's address {@code byteOffset} bytes in, for async copies. */
    Pointer hostAt(long byteOffset) {
        return hostPtr.withByteOffset(byteOffset);
    }

    private void freeDevice() {
        mem.freeAll();
        capacity = 0;
        stateCapacity = 0;
        logitsCapacity = 0;
        states = null;
        logits = null;
    }

    private void freeHost() {
        if (hostPtr != null) {
            cuMemFreeHost(hostPtr);
            hostPtr = null;
            host = null;
            hostBytes = 0;
        }
    }

    long deviceBytes() {
        return mem.bytes();
    }

    void free() {
        freeDevice();
        freeHost();
    }
}
