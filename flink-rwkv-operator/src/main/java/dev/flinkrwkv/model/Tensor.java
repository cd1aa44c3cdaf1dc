package dev.flinkrwkv.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One named tensor of a model file: its storage type, its dimensions in ggml order (ne0 varies fastest)
 * and its bytes, a little-endian view of the mapped file (never copied onto the heap).
 *
 * <p>A 2-D tensor with ne = (K, N) is N rows of K values: a Linear weight (out, in) with ne0 = in.
 */
public final class Tensor {
    private final String name;
    private final TensorType type;
    private final int[] ne;
    private final ByteBuffer data;

    public Tensor(String name, TensorType type, int[] ne, ByteBuffer data) {
        this.name = name;
        this.type = type;
        this.ne = ne.clone();
        this.data = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    public String name() {
        return name;
    }

    public TensorType type() {
        return type;
    }

    /** Number of dimensions as stored in the file (1 to 3). */
    public int dims() {
        return ne.length;
    }

    /** Dimension {@code i} in ggml order; 1 past the stored dimensions. */
    public int ne(int i) {
        return i < ne.length ? ne[i] : 1;
    }

    /** A copy of the stored dimensions, ggml order. */
    public int[] shape() {
        return ne.clone();
    }

    public long elements() {
        long n = 1;
        for (int d : ne) {
            n *= d;
        }
        return n;
    }

    /** Values per row (ne0). */
    public int cols() {
        return ne[0];
    }

    /** Rows: the product of all dimensions but the first. */
    public int rows() {
        return (int) (elements() / ne[0]);
    }

    public long byteSize() {
        return type.bytesFor(elements());
    }

    /** The raw bytes (a read-only little-endian view; position 0). */
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Dequantizes row {@code row} (cols() values) into {@code out} at {@code off}, in float32 exactly. */
    public void dequantizeRow(int row, float[] out, int off) {
        type.storage.decode(data, (long) row * type.bytesFor(ne[0]), ne[0], out, off);
    }

    /** Every value as float32 (for vectors and small tensors; matrices stay in their stored type). */
    public float[] toFloats() {
        long n = elements();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor " + name + " is too large to copy to a float array");
        }
        float[] out = new float[(int) n];
        int rows = rows();
        for (int r = 0; r < rows; r++) {
            dequantizeRow(r, out, r * ne[0]);
        }
        return out;
    }

    @Override
    public String toString() {
        return name + " " + type + " " + java.util.Arrays.toString(ne);
    }
}
