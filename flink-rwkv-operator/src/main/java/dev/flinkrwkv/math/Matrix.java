package dev.flinkrwkv.math;

import dev.flinkrwkv.model.Tensor;
import dev.flinkrwkv.model.TensorType;
import dev.flinkrwkv.tensor.PackedRows;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * A weight matrix of {@code rows} rows of {@code cols} values, in its stored type, over the mapped file.
 * Row n holds the weights of output n: {@code y[n] = sum_k W[n][k] * x[k]} (rwkv.cpp stores Linear
 * weights (out, in) with the input dimension fastest, so no transpose is ever needed).
 *
 * <p>The product is batched: B input vectors share one pass over the weights, which is what makes a
 * batch of keys cheaper than B single steps when the weights do not fit in cache. The work is done by a
 * {@link MatMulKernel}, chosen once per process.
 */
public final class Matrix {
    /**
     * The system property that chooses which matrices the vector kernel reads from a heap copy for a single
     * stream ({@link PackedRows}): unset (or {@code heap}), all; {@code mapped}, none (no
     * heap copy, a slower single stream). Copies that would take more than half of the heap in all, or one more
     * than half of the heap still free, are not made either (logged once): those matrices stay mapped.
     */
    public static final String WEIGHTS_PROPERTY = "flinkrwkv.weights";

    private final String name;
    private final TensorType type;
    private final ByteBuffer data;
    private final int rows;
    private final int cols;
    private final long rowBytes;
    private final boolean finiteHalves;
    private final FloatBuffer floats;
    /** Whether this matrix's type is read from a heap copy for a single stream. */
    private final boolean packable;
    /** The heap copy for the vector kernel's single stream, made on first use (see {@link #packed()}). */
    private PackedRows packed;
    private volatile boolean packedMade; // publishes packed

    public Matrix(String name, TensorType type, ByteBuffer data, int rows, int cols) {
        this(name, type, data, rows, cols, packsByDefault(type));
    }

    private static boolean packsByDefault(TensorType type) {
        return type.storage.packs() && !weightsStayMapped(System.getProperty(WEIGHTS_PROPERTY));
    }

    private static volatile String warnedValue;

    /**
     * Whether the property's value keeps every matrix on the mapped file: {@code mapped}; unset or
     * {@code heap} copies. Any other value is a mistake (a typo of {@code mapped} would otherwise copy the
     * weights silently): it keeps the default, with one warning per value.
     */
    static boolean weightsStayMapped(String value) {
        if (value == null || value.isEmpty() || "heap".equalsIgnoreCase(value)) {
            return false;
        }
        if ("mapped".equalsIgnoreCase(value)) {
            return true;
        }
        if (!value.equals(warnedValue)) {
            warnedValue = value;
            System.getLogger(Matrix.class.getName()).log(System.Logger.Level.WARNING,
                    "-D" + WEIGHTS_PROPERTY + "=" + value + " is neither 'heap' nor 'mapped'; using the default"
                            + " (weights copied to the heap for the single stream)");
        }
        return false;
    }

    private Matrix(String name, TensorType type, ByteBuffer data, int rows, int cols, boolean packable) {
        this.packable = packable;
        this.name = name;
        this.type = type;
        this.data = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = type.bytesFor(cols);
        this.floats = type == TensorType.FP32 ? this.data.asFloatBuffer() : null;
        this.finiteHalves = type.storage.halvesFinite(this.data, rows * rowBytes);
    }

    /** The same matrix, never packed: it is always read from the mapped bytes (for tests and benchmarks). */
    Matrix mappedOnly() {
        return new Matrix(name, type, data, rows, cols, false);
    }

    /** The same matrix, packed whenever its type can be (for tests and benchmarks). */
    Matrix packedWherePossible() {
        return new Matrix(name, type, data, rows, cols, type.storage.packs());
    }

    /**
     * The heap copy of this matrix's rows for the vector kernel ({@link PackedRows}), or null when it is not
     * packed (its type is not, packing is off, the heap cannot spare it, or the matrix holds a non-finite half). Made on the first
     * call, once: a model evaluated on a GPU, or by the plain-Java kernel, never pays for it.
     */
    PackedRows packed() {
        if (!packedMade) {
            synchronized (this) {
                if (!packedMade) {
                    packed = packable && finiteHalves ? HeapCopies.of(this, freeHeap(), Runtime.getRuntime().maxMemory()) : null;
                    packedMade = true;
                }
            }
        }
        return packed;
    }

    /**
     * Heap the JVM can still allocate: the maximum less what each heap pool held after its last collection
     * (its live data then), not less what is in use now: in a busy task manager most of the heap in use may
     * be garbage, and the copy must not be refused for that.
     */
    private static long freeHeap() {
        long live = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                MemoryUsage afterGc = pool.getCollectionUsage();
                live += afterGc != null ? afterGc.getUsed() : pool.getUsage().getUsed();
            }
        }
        return Runtime.getRuntime().maxMemory() - live;
    }

    /** The whole tensor as a matrix of {@code tensor.rows()} rows of {@code tensor.cols()} values. */
    public static Matrix of(Tensor tensor) {
        return new Matrix(tensor.name(), tensor.type(), tensor.data(), tensor.rows(), tensor.cols());
    }

    /** Rows {@code [first, first + count)} of a tensor as a matrix (e.g. one slab of a 3-D tensor). */
    public static Matrix rowsOf(Tensor tensor, int first, int count) {
        long rb = tensor.type().bytesFor(tensor.cols());
        ByteBuffer d = tensor.data();
        d.position(Math.toIntExact(first * rb)).limit(Math.toIntExact((first + count) * rb));
        return new Matrix(tensor.name() + "[" + first + ".." + (first + count) + ")", tensor.type(),
                d.slice().order(ByteOrder.LITTLE_ENDIAN), count, tensor.cols());
    }

    public String name() {
        return name;
    }

    public TensorType type() {
        return type;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Bytes one pass over this matrix reads. */
    public long bytes() {
        return rowBytes * rows;
    }

    /** The stored bytes, little-endian (shared, read-only: do not change position or limit). */
    ByteBuffer data() {
        return data;
    }

    /**
     * True unless one of the matrix's halves (FP16 values, or quantized blocks' scales and minimums) is
     * an infinity or NaN (checked once, when the matrix is made: real weights never hold them), which lets
     * the vector kernel decode halves with a shorter exact sequence.
     */
    boolean finiteHalves() {
        return finiteHalves;
    }

    /** An FP32 matrix's values as floats (row-major; use the absolute, thread-safe bulk gets only), else null. */
    FloatBuffer floats() {
        return floats;
    }

    long rowBytes() {
        return rowBytes;
    }

    /** Dequantizes row {@code row} into {@code out} at {@code off}. */
    public void row(int row, float[] out, int off) {
        type.storage.decode(data, row * rowBytes, cols, out, off);
    }

    /**
     * For b in [0, batch): {@code y[yOff + b*yStride + n] = sum_k W[n][k] * x[xOff + b*xStride + k]} for
     * every row n.
     */
    public void mul(float[] x, int xOff, int xStride, float[] y, int yOff, int yStride, int batch) {
        MatMulKernel.get().mul(this, x, xOff, xStride, y, yOff, yStride, batch, 0, rows);
    }

    /** The common case: packed inputs (stride cols) and packed outputs (stride rows). */
    public void mul(float[] x, float[] y, int batch) {
        mul(x, 0, cols, y, 0, rows, batch);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + rows + "x" + cols;
    }
}
