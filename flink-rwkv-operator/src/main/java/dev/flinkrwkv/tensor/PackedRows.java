package dev.flinkrwkv.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * A matrix's weights copied once into heap arrays, {@value #GROUP} rows interleaved, for the vector
 * kernel's single-stream product: the layout a {@link Storage} packs its rows into ({@link Storage#pack}).
 *
 * <p>Why: at batch 1 each dot product is one chain of multiply-adds (the order every batch size shares, so
 * that a key gets the same bits in any batch), 4 cycles per vector of values. Reading rows straight from
 * the mapped file, one row at a time, stays under the memory bandwidth. Four rows multiplied together are
 * four independent chains, but four rows read from four places in the file defeat the hardware
 * prefetchers. Interleaved here, the four rows are one sequential stream, and heap-array vector loads are
 * cheaper than loads from a mapped buffer. Every row's sum keeps its order, so the results are the same
 * bits as the mapped path's. FP32 rows are copied too: the copy also makes their speed independent of
 * where the page cache put the file.
 *
 * <p>The price is heap memory of about the matrix's file size (twice it for the 4- and 5-bit types, whose
 * quants are widened to bytes; the mapped pages are then no longer read and the OS may drop them).
 */
public abstract sealed class PackedRows permits PackedRows.Chunks, PackedRows.Quants {
    /** Rows interleaved together. */
    public static final int GROUP = 4;
    /** Values in one chunk of a float type's row: one float vector ({@link VectorWidth#LANES}). */
    static final int CHUNK = VectorWidth.LANES;

    public final int rows;
    public final int cols;

    private PackedRows(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
    }

    /** Groups of {@value #GROUP} rows, the last one padded with zero rows. */
    final int groups() {
        return (rows + GROUP - 1) / GROUP;
    }

    /** Values of a packed {@code rows x cols} matrix, padding included (the size of its largest array). */
    public static long paddedValues(int rows, int cols) {
        return (long) (rows + GROUP - 1) / GROUP * GROUP * ((cols + CHUNK - 1) / CHUNK * CHUNK);
    }

    /**
     * The float types' layout: for group g, chunk c of {@link #CHUNK} values (the last one zero-padded when
     * {@code cols} is not a multiple of it) and row r of the group, the row's values at
     * {@code ((g * chunks + c) * GROUP + r) * CHUNK}.
     */
    public abstract static sealed class Chunks extends PackedRows permits Floats, Halves {
        final int chunks;

        private Chunks(int rows, int cols) {
            super(rows, cols);
            chunks = (cols + CHUNK - 1) / CHUNK;
        }

        /** Values of the arrays. */
        final int values() {
            return groups() * chunks * GROUP * CHUNK;
        }

        /** Index of value i of row n. */
        final int at(int n, int i) {
            return chunkAt(n, i / CHUNK) + i % CHUNK;
        }

        /** Index of the first value of chunk c of row n; the row's next chunk is {@link #chunkStride()} on. */
        final int chunkAt(int n, int c) {
            return ((n / GROUP * chunks + c) * GROUP + n % GROUP) * CHUNK;
        }

        final int chunkStride() {
            return GROUP * CHUNK;
        }
    }

    /** FP32, the floats as stored. */
    public static final class Floats extends Chunks {
        final float[] floats;

        Floats(ByteBuffer d, long rowBytes, int rows, int cols) {
            super(rows, cols);
            floats = new float[values()];
            FloatBuffer f = d.duplicate().position(0).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            for (int n = 0; n < rows; n++) {
                int row = Math.toIntExact(n * rowBytes / Float.BYTES);
                for (int c = 0; c < chunks; c++) {
                    int i = c * CHUNK;
                    f.get(row + i, floats, chunkAt(n, c), Math.min(CHUNK, cols - i));
                }
            }
        }
    }

    /** FP16 or BF16: the 16 bits as stored, {@link #type} says which. */
    public static final class Halves extends Chunks {
        public final SixteenBit type;
        final short[] halves;

        Halves(SixteenBit type, ByteBuffer d, long rowBytes, int rows, int cols) {
            super(rows, cols);
            this.type = type;
            halves = new short[values()];
            for (int n = 0; n < rows; n++) {
                long row = n * rowBytes;
                for (int i = 0; i < cols; i++) {
                    halves[at(n, i)] = d.getShort(Math.toIntExact(row + 2L * i));
                }
            }
        }
    }

    /**
     * The block types (Q8_0, and Q4_0, Q4_1, Q5_0, Q5_1 widened to one byte per value): for group g, block j
     * and row r of the group, the block's 32 integer quants at {@code ((g * blocks + j) * GROUP + r) * 32}
     * (Q4_0's and Q5_0's offsets already subtracted, {@link Blocks#quants}), and its scale, decoded from
     * its half, at {@code (g * blocks + j) * GROUP + r}; Q4_1 and Q5_1 have their minimum at the same index
     * of {@link #mins}. A value is then {@code q*d} (or {@code q*d + m}) in float32, exactly as the file's
     * block decodes: same bits. Widening the 4- and 5-bit quants doubles their bytes (0.56-0.75 per value in
     * the file, 1.13-1.25 here), but the kernel then is the Q8_0 one, which is compute-bound (it reads these
     * bytes below what a core can read); a kernel unpacking nibbles and high bits in registers would need
     * about a quarter more vector operations per value, so the bytes saved would not pay (reasoned from the
     * operation count, not measured).
     */
    public static final class Quants extends PackedRows {
        final int blocks;
        final byte[] quants;
        final float[] scales;
        /** Each block's minimum for Q4_1 and Q5_1; null for the types without one. */
        final float[] mins;

        Quants(Blocks type, ByteBuffer d, long rowBytes, int rows, int cols) {
            super(rows, cols);
            blocks = cols / Blocks.VALUES;
            quants = new byte[groups() * blocks * GROUP * Blocks.VALUES];
            scales = new float[groups() * blocks * GROUP];
            mins = type.hasMinimum() ? new float[scales.length] : null;
            for (int n = 0; n < rows; n++) {
                for (int j = 0; j < blocks; j++) {
                    int src = Math.toIntExact(n * rowBytes + (long) j * type.blockBytes);
                    int block = blockAt(n, j);
                    scales[block] = Half.toFloat(d.getShort(src));
                    if (mins != null) {
                        mins[block] = Half.toFloat(d.getShort(src + 2));
                    }
                    type.quants(d, src, quants, block * Blocks.VALUES);
                }
            }
        }

        /** Index of block j of row n in {@link #scales} (times 32: in {@link #quants}). */
        int blockAt(int n, int j) {
            return (n / GROUP * blocks + j) * GROUP + n % GROUP;
        }
    }
}
