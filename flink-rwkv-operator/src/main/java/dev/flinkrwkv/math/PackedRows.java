package dev.flinkrwkv.math;

import dev.flinkrwkv.model.TensorType;
import dev.flinkrwkv.tensor.Blocks;
import dev.flinkrwkv.tensor.Half;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A matrix's weights copied once into heap arrays, {@value #GROUP} rows interleaved, for the vector kernel's
 * single-stream product (see {@link VectorMatMul}).
 *
 * <p>Why: at batch 1 each dot product is one chain of multiply-adds (the order every batch size shares, so
 * that a key gets the same bits in any batch), 4 cycles per 8 values. Decoding FP16 or quantized rows
 * straight from the mapped file, one row at a time, stays under the memory bandwidth (4-7 G values/s on one
 * core here). Four rows multiplied together are four independent chains, but four rows read from four
 * places in the file defeat the hardware prefetchers (3-4 G values/s). Interleaved here, the four rows are
 * one sequential stream, and heap-array vector loads are cheaper than loads from a mapped buffer: 10-13 G
 * values/s for FP16 and 13-15 for Q8_0, micro-benchmarked on one core. Every row's sum keeps its order, so
 * the results are the same bits as the mapped path's.
 *
 * <p>The price is heap memory of about the matrix's file size (twice it for the 4- and 5-bit types, whose
 * quants are widened to bytes; the mapped pages are then no longer read and the OS may drop them). Which
 * matrices are copied is {@link Matrix#WEIGHTS_PROPERTY}'s choice (all but FP32 by default, heap allowing).
 * FP32 rows are not packed: they are read at the bandwidth already.
 */
abstract sealed class PackedRows permits PackedRows.Halves, PackedRows.Quants {
    /** Rows interleaved together. */
    static final int GROUP = 4;
    /** Values in one FP16 or BF16 chunk (one 8-lane vector). */
    static final int CHUNK = 8;
    /** Values in one Q8_0 block. */
    static final int BLOCK = 32;

    final int rows;
    final int cols;

    private PackedRows(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
    }

    /** Groups of {@value #GROUP} rows, the last one padded with zero rows. */
    final int groups() {
        return (rows + GROUP - 1) / GROUP;
    }

    /** Whether matrices of this type are packed when the vector kernel multiplies them: all but FP32. */
    static boolean packs(TensorType type) {
        return type != TensorType.FP32;
    }

    /**
     * The packed copy of {@code m}, or null when its type is not packed, it is too large for one array, or
     * the heap cannot spare it: the copies held in this JVM would then take more than half of
     * {@code maxHeap} in all, or this one more than half of {@code freeHeap} (the heap left to the job). A
     * matrix not copied is read from the mapped file, at the mapped speed, and a warning says so once per
     * process. The copies in all are bounded, not only each one: a model is copied matrix by matrix, and
     * each small matrix alone would always fit.
     */
    static PackedRows of(Matrix m, long freeHeap, long maxHeap) {
        long padded = (long) (m.rows() + GROUP - 1) / GROUP * GROUP * roundUp(m.cols(), CHUNK);
        if (!packs(m.type()) || padded > Integer.MAX_VALUE - 16) {
            return null;
        }
        long bytes = heapBytes(m.type(), padded);
        long held = HELD.get();
        if (!heapCanHold(bytes, held, freeHeap, maxHeap)) {
            if (!warnedHeap) {
                warnedHeap = true;
                System.getLogger(PackedRows.class.getName()).log(System.Logger.Level.WARNING, String.format(
                        "matrix %s (%s, %d x %d) stays on the mapped file, and a single stream reads it at the mapped"
                                + " speed: its heap copy (%d MB) with the copies held already (%d MB) would take more"
                                + " than half of the %d MB heap, or it more than half of the %d MB still free; give the"
                                + " JVM more heap for the faster single stream, or set -D%s=mapped to keep every"
                                + " matrix mapped (this warning is logged once)",
                        m.name(), m.type(), m.rows(), m.cols(), bytes >> 20, held >> 20, maxHeap >> 20,
                        freeHeap >> 20, Matrix.WEIGHTS_PROPERTY));
            }
            return null;
        }
        PackedRows copy = m.type().isQuantized() ? new Quants(m) : new Halves(m);
        HELD.addAndGet(bytes);
        RELEASER.register(copy, new Release(bytes));
        return copy;
    }

    /** Whether a copy of {@code bytes} fits: at most half of the free heap, and the copies in all half of the heap. */
    static boolean heapCanHold(long bytes, long held, long freeHeap, long maxHeap) {
        return bytes <= freeHeap / 2 && held + bytes <= maxHeap / 2;
    }

    /** Bytes of the copies alive in this JVM: added when one is made, taken off when it is collected. */
    private static final AtomicLong HELD = new AtomicLong();
    private static final Cleaner RELEASER = Cleaner.create();

    /** Takes a collected copy's bytes off {@link #HELD} (holds no reference to the copy itself). */
    private record Release(long bytes) implements Runnable {
        @Override
        public void run() {
            HELD.addAndGet(-bytes);
        }
    }

    static long heldBytes() {
        return HELD.get();
    }

    private static volatile boolean warnedHeap;

    /**
     * Heap bytes of the copy of {@code padded} values: 2 per FP16 or BF16 value; for block types 1 per quant
     * plus a float scale per block of 32 (and a float minimum for Q4_1 and Q5_1).
     */
    static long heapBytes(TensorType type, long padded) {
        if (!type.isQuantized()) {
            return 2 * padded;
        }
        return padded + padded / BLOCK * Float.BYTES * (((Blocks) type.storage).hasMinimum() ? 2 : 1);
    }

    private static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    /**
     * FP16 or BF16 (the 16 bits as stored, {@link #type} says which): for group g, 8-value chunk c (the last
     * one zero-padded when {@code cols} is not a multiple of 8) and row r of the group, the row's 8 values at
     * {@code ((g * chunks + c) * GROUP + r) * CHUNK}.
     */
    static final class Halves extends PackedRows {
        final TensorType type;
        final int chunks;
        final short[] halves;

        private Halves(Matrix m) {
            super(m.rows(), m.cols());
            type = m.type();
            chunks = (cols + CHUNK - 1) / CHUNK;
            halves = new short[groups() * chunks * GROUP * CHUNK];
            ByteBuffer d = m.data();
            for (int n = 0; n < rows; n++) {
                long row = n * m.rowBytes();
                for (int i = 0; i < cols; i++) {
                    halves[at(n, i)] = d.getShort(Math.toIntExact(row + 2L * i));
                }
            }
        }

        /** Index of value i of row n. */
        int at(int n, int i) {
            return chunkAt(n, i / CHUNK) + i % CHUNK;
        }

        /** Index of the first value of chunk c of row n; the row's next chunk is {@link #chunkStride()} on. */
        int chunkAt(int n, int c) {
            return ((n / GROUP * chunks + c) * GROUP + n % GROUP) * CHUNK;
        }

        int chunkStride() {
            return GROUP * CHUNK;
        }
    }

    /**
     * The block types (Q8_0, and Q4_0, Q4_1, Q5_0, Q5_1 widened to one byte per value): for group g, block j
     * and row r of the group, the block's 32 integer quants at {@code ((g * blocks + j) * GROUP + r) * BLOCK}
     * (Q4_0's and Q5_0's offsets already subtracted, {@link Blocks#quants}), and its scale, decoded from
     * its half, at {@code (g * blocks + j) * GROUP + r}; Q4_1 and Q5_1 have their minimum at the same index
     * of {@link #mins}. A value is then {@code q*d} (or {@code q*d + m}) in float32, exactly as the file's
     * block decodes: same bits. Widening the 4- and 5-bit quants doubles their bytes (0.56-0.75 per value in
     * the file, 1.13-1.25 here), but the kernel then is the Q8_0 one, which is compute-bound (13-15 G
     * values/s per core, 15-17 GB/s of these bytes, under the ~20 GB/s a core reads); a kernel unpacking
     * nibbles and high bits in registers would need about a quarter more vector operations per value, so
     * the bytes saved would not pay (reasoned from the operation count, not measured).
     */
    static final class Quants extends PackedRows {
        final int blocks;
        final byte[] quants;
        final float[] scales;
        /** Each block's minimum for Q4_1 and Q5_1; null for the types without one. */
        final float[] mins;

        private Quants(Matrix m) {
            super(m.rows(), m.cols());
            Blocks type = (Blocks) m.type().storage;
            blocks = cols / BLOCK;
            quants = new byte[groups() * blocks * GROUP * BLOCK];
            scales = new float[groups() * blocks * GROUP];
            mins = type.hasMinimum() ? new float[scales.length] : null;
            ByteBuffer d = m.data();
            for (int n = 0; n < rows; n++) {
                for (int j = 0; j < blocks; j++) {
                    int src = Math.toIntExact(n * m.rowBytes() + (long) j * type.blockBytes);
                    int block = blockAt(n, j);
                    scales[block] = Half.toFloat(d.getShort(src));
                    if (mins != null) {
                        mins[block] = Half.toFloat(d.getShort(src + 2));
                    }
                    type.quants(d, src, quants, block * BLOCK);
                }
            }
        }

        /** Index of block j of row n in {@link #scales} (times {@value #BLOCK}: in {@link #quants}). */
        int blockAt(int n, int j) {
            return (n / GROUP * blocks + j) * GROUP + n % GROUP;
        }
    }
}
