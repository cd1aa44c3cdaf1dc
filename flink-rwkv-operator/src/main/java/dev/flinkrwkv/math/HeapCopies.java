package dev.flinkrwkv.math;

import dev.flinkrwkv.tensor.PackedRows;
import dev.flinkrwkv.tensor.Storage;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which matrices the vector kernel reads from a heap copy of their rows for a single stream
 * ({@link PackedRows}, in the layout their {@link Storage} packs), and the heap those copies hold. Which
 * matrices are copied is {@link Matrix#WEIGHTS_PROPERTY}'s choice (every type that packs by default, heap
 * allowing).
 */
final class HeapCopies {
    private HeapCopies() {}

    /**
     * The packed copy of {@code m}, or null when its type is not packed, it is too large for one array, or
     * the heap cannot spare it: the copies held in this JVM would then take more than half of
     * {@code maxHeap} in all, or this one more than half of {@code freeHeap} (the heap left to the job). A
     * matrix not copied is read from the mapped file, at the mapped speed, and a warning says so once per
     * process. The copies in all are bounded, not only each one: a model is copied matrix by matrix, and
     * each small matrix alone would always fit.
     */
    static PackedRows of(Matrix m, long freeHeap, long maxHeap) {
        Storage type = m.type().storage;
        if (!type.packs() || PackedRows.paddedValues(m.rows(), m.cols()) > Integer.MAX_VALUE - 16) {
            return null;
        }
        long bytes = type.packedBytes(m.rows(), m.cols());
        long held = HELD.get();
        if (!heapCanHold(bytes, held, freeHeap, maxHeap)) {
            if (!warnedHeap) {
                warnedHeap = true;
                System.getLogger(HeapCopies.class.getName()).log(System.Logger.Level.WARNING, String.format(
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
        PackedRows copy = type.pack(m.data(), m.rowBytes(), m.rows(), m.cols());
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
}
