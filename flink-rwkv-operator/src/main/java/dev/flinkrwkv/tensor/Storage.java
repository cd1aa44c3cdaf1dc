package dev.flinkrwkv.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One storage type of rwkv.cpp's model files (the ggml layouts), as one class that owns everything that
 * depends on its bits: its size, its exact scalar decoding to float32, its encoding (quantization, rounding
 * exactly as rwkv.cpp does), the copy the vector kernel multiplies a single stream from, and its vector
 * kernels. Each type is
 * one subclass; {@code model.TensorType} names them with the file's type codes, and {@code math} runs their
 * kernels without knowing their layouts.
 *
 * <p>This package depends on no other of the engine's: the file format ({@code model}) and the kernels
 * ({@code math}) both use it.
 */
public abstract sealed class Storage permits Fp32, SixteenBit, Blocks {
    /** The type's name, as {@code model.TensorType} spells it. */
    public final String name;
    /** Values per block (1 for the float types). */
    public final int blockElements;
    /** Bytes per block. */
    public final int blockBytes;

    Storage(String name, int blockElements, int blockBytes) {
        this.name = name;
        this.blockElements = blockElements;
        this.blockBytes = blockBytes;
    }

    public final boolean isQuantized() {
        return blockElements > 1;
    }

    /** Bytes taken by {@code elements} values (a multiple of the block size for quantized types). */
    public final long bytesFor(long elements) {
        return elements / blockElements * blockBytes;
    }

    /**
     * Decodes {@code n} values (a multiple of the block size) starting at byte {@code pos} of {@code src}
     * (little-endian) into {@code out} at {@code off}, exactly: every kernel sees these values.
     */
    public abstract void decode(ByteBuffer src, long pos, int n, float[] out, int off);

    /**
     * Encodes {@code n} values of {@code x} from {@code off} (n a multiple of the block size) into
     * {@code out} (little-endian) at its position, advancing it by {@link #bytesFor bytesFor(n)}.
     */
    public final void encode(float[] x, int off, int n, ByteBuffer out) {
        if (out.order() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalArgumentException("model files are little-endian; the output buffer is not");
        }
        if (n % blockElements != 0) {
            throw new IllegalArgumentException(n + " values do not fill whole " + name + " blocks of " + blockElements);
        }
        encodeValues(x, off, n, out);
    }

    abstract void encodeValues(float[] x, int off, int n, ByteBuffer out);

    /**
     * Whether every half among the first {@code bytes} bytes of {@code d} is finite (exponent below 31):
     * the values of FP16, the scales (and minimums) of the block types; true for the types without halves.
     * The vector decoders take a shorter exact sequence that assumes it.
     */
    public boolean halvesFinite(ByteBuffer d, long bytes) {
        return true;
    }

    /**
     * Whether the vector kernel multiplies a single stream from a heap copy of this type's rows
     * ({@link PackedRows}): every type.
     */
    public boolean packs() {
        return false;
    }

    /** Heap bytes of the copy {@link #pack} makes of a {@code rows x cols} matrix (for types that pack). */
    public long packedBytes(int rows, int cols) {
        throw new UnsupportedOperationException(name + " rows are not packed");
    }

    /**
     * The heap copy of the {@code rows x cols} matrix whose row n starts at byte {@code n * rowBytes} of
     * {@code d}, in this type's {@link PackedRows} layout (for types that pack).
     */
    public PackedRows pack(ByteBuffer d, long rowBytes, int rows, int cols) {
        throw new UnsupportedOperationException(name + " rows are not packed");
    }

    /**
     * The vector kernels of this type, for the Vector API matrix product; their classes are loaded by this
     * call, which only a vector kernel makes (it needs the {@code jdk.incubator.vector} module).
     */
    public abstract VectorKernels vectorKernels();

    @Override
    public String toString() {
        return name;
    }
}
