package dev.flinkrwkv.tensor;

import java.nio.ByteBuffer;

/**
 * A storage type's vector kernels ({@link Storage#vectorKernels}), for the Vector API matrix product: its
 * rows decoded one vector ({@link VectorWidth}) at a time in registers, with the float32 roundings of {@link Storage#decode}, so
 * every path sees exactly the scalar weights. Every dot product is accumulated the same way (one vector
 * accumulator over the one-vector steps, lanes reduced, then the scalar tail), so a row gets the same bits from
 * the mapped file, from its heap copy and in a batch. The vector decoders of halves assume finite halves
 * ({@link Storage#halvesFinite}); a matrix holding an infinity or NaN among them takes the plain-Java kernel.
 *
 * <p>This interface names no vector type: the implementations, which do, are loaded only when a vector
 * kernel asks for them, so the storage types load without the {@code jdk.incubator.vector} module.
 */
public interface VectorKernels {
    /**
     * Batch 1 from the mapped file: {@code y[yo + n] = row n . x[xo ..]} for rows {@code [r0, r1)} of
     * {@code k} values, row n at byte {@code n * rowBytes} of {@code d}, one row at a time in storage order
     * so that the rows are read as one sequential stream, which the hardware prefetchers follow at full
     * bandwidth (several rows interleaved in one loop, more independent multiply-add chains, measured at
     * about half the bandwidth: rows interleaved in memory, {@link PackedRows}, are one stream again).
     */
    void dots(ByteBuffer d, long rowBytes, int k, float[] x, int xo, float[] y, int yo, int r0, int r1);

    /** The row of {@code k} values at byte {@code p} of {@code d}, decoded into {@code w[wo ..]}. */
    void decode(ByteBuffer d, int p, int k, float[] w, int wo);

    /**
     * Batch 1 from the heap copy: as {@link #dots}, for rows {@code [r0, r1)} of {@code packed} (this type's
     * layout), each whole group of rows in one pass (four multiply-add chains over one sequential stream).
     */
    void packedDots(PackedRows packed, float[] x, int xo, float[] y, int yo, int r0, int r1);

    /** Row {@code n} of {@code packed} (this type's layout), decoded into {@code w[wo ..]}. */
    void packedDecode(PackedRows packed, int n, float[] w, int wo);
}
