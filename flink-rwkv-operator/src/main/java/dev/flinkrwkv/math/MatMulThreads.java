package dev.flinkrwkv.math;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits the output rows of each {@link Matrix} product over a fixed number of threads: the calling
 * thread and {@code threads - 1} daemon workers started once, here. Each product's rows are cut into
 * equal contiguous ranges (multiples of 4 rows, the vector kernel's tile), so every thread reads its own
 * share of the weights once. The same threads also run {@link #forEachRange} (the per-key work of a
 * batched step: its items cut into contiguous ranges, one per thread).
 *
 * <p>A call allocates nothing: the product is published in fields, a generation counter releases the
 * workers (which spin briefly, then park), and a countdown tells the caller that all parts are done.
 * Products too small to repay the hand-off (under {@value #MIN_WORK} multiply-adds, or fewer rows than
 * threads) run on the caller alone. Calls are serialized, so one instance serves one evaluator at a time;
 * {@link #close()} stops the workers. {@code new MatMulThreads(1)} starts no thread and adds no cost.
 */
public final class MatMulThreads implements AutoCloseable {
    /** Products with fewer multiply-adds than this (about 0.1 ms of work) are not split. */
    static final long MIN_WORK = 1L << 18;
    /** Spins before parking: short, because the cores are shared and the hand-off is per product. */
    private static final int SPINS = 2_000;
    private static final int ROW_ALIGN = 4;

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile long generation;
    private volatile boolean closed;
    private volatile Thread caller;
    private volatile Throwable failure;

    // the range task in flight, published by the volatile write of generation; with segment ends, the
    // parts are cut at those ends only
    private RangeTask range;
    private int rangeItems;
    private int[] segmentEnds;
    private int segmentCount;
    // the product in flight, read by productRows
    private MatMulKernel kernel;
    private Matrix m;
    private float[] x, y;
    private int xOff, xStride, yOff, yStride, batch;
    /** A product as a range task: its items are units of {@value #ROW_ALIGN} rows. */
    private final RangeTask productRows = this::productRows;

    public MatMulThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count " + threads + " must be at least 1");
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int part = i + 1;
            Thread t = new Thread(() -> work(part), "rwkv-matmul-" + part);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    /** The number of threads a product is split over, the caller's included. */
    public int threads() {
        return threads;
    }

    /** {@link Matrix#mul(float[], int, int, float[], int, int, int)} with the rows split over the threads. */
    public void mul(Matrix w, float[] x, int xOff, int xStride, float[] y, int yOff, int yStride, int batch) {
        MatMulKernel k = MatMulKernel.get();
        int rows = w.rows();
        if (threads == 1 || rows < threads * ROW_ALIGN || (long) rows * w.cols() * batch < MIN_WORK) {
            k.mul(w, x, xOff, xStride, y, yOff, yStride, batch, 0, rows);
            return;
        }
        synchronized (this) {
            this.kernel = k;
            this.m = w;
            this.x = x;
            this.xOff = xOff;
            this.xStride = xStride;
            this.y = y;
            this.yOff = yOff;
            this.yStride = yStride;
            this.batch = batch;
            try {
                split((rows + ROW_ALIGN - 1) / ROW_ALIGN, productRows);
            } finally {
                this.x = null;
                this.y = null;
                this.m = null;
            }
        }
    }

    private void productRows(int fromUnit, int toUnit) {
        int rows = m.rows();
        int r0 = Math.min(rows, fromUnit * ROW_ALIGN);
        int r1 = Math.min(rows, toUnit * ROW_ALIGN);
        if (r0 < r1) {
            kernel.mul(m, x, xOff, xStride, y, yOff, yStride, batch, r0, r1);
        }
    }

    /** Work on the items {@code [from, to)} of a {@link #forEachRange} call. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    /**
     * Runs {@code task} over the items {@code [0, n)} cut into one contiguous range per thread (the caller
     * takes the first), and returns when all ranges are done; allocates nothing. Each item is run by
     * exactly one thread, so a task whose items are independent (the keys of a batch: each has its own
     * state and rows) gives the same bits whatever the thread count. With fewer than two items per thread
     * the hand-off would cost more than it saves, and the caller runs {@code task.run(0, n)} alone.
     */
    public void forEachRange(int n, RangeTask task) {
        if (threads == 1 || n < 2 * threads) {
            if (n > 0) {
                task.run(0, n);
            }
            return;
        }
        synchronized (this) {
            split(n, task);
        }
    }

    /**
     * Runs {@code task} over the items {@code [0, ends[segments-1])}, made of {@code segments} contiguous
     * segments (segment s ends before item {@code ends[s]}; ends increasing), each of which must be run
     * whole, in order, by one thread: the keys of a ragged batch, whose rows continue each other. Each thread
     * gets a contiguous run of whole segments of about equal item count (the caller the first). The items of
     * one segment are run by one {@code task.run} call or several consecutive ones on the same thread, so the
     * bits do not depend on the thread count. Fewer than two segments, or fewer than two items per thread:
     * the caller runs everything.
     */
    public void forEachSegment(int segments, int[] ends, RangeTask task) {
        int n = segments == 0 ? 0 : ends[segments - 1];
        if (threads == 1 || segments < 2 || n < 2 * threads) {
            if (n > 0) {
                task.run(0, n);
            }
            return;
        }
        synchronized (this) {
            this.segmentEnds = ends;
            this.segmentCount = segments;
            try {
                split(n, task);
            } finally {
                this.segmentEnds = null;
            }
        }
    }

    /** Runs {@code task} over {@code [0, n)}, one contiguous range per thread; the caller holds the lock. */
    private void split(int n, RangeTask task) {
        checkOpen();
        this.range = task;
        this.rangeItems = n;
        try {
            runParts();
        } finally {
            this.range = null;
        }
    }

    /**
     * Where part {@code index}'s items start: {@code n * index / threads}, moved up to the next segment end
     * when segments are set (so a segment belongs to the part in which it starts).
     */
    private int partStart(int index) {
        int n = rangeItems;
        int at = (int) ((long) n * index / threads);
        int[] ends = segmentEnds;
        if (ends == null || index == 0 || index == threads) {
            return at;
        }
        int lo = 0, hi = segmentCount - 1; // the first segment end >= at
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] < at) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return ends[lo];
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("matrix threads closed");
        }
    }

    /** Releases the workers on the published job, runs part 0 here, waits for the others. */
    private void runParts() {
        this.caller = Thread.currentThread();
        pending.set(workers.length);
        generation = generation + 1;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
        Throwable mine = null;
        try {
            part(0);
        } catch (Throwable e) {
            mine = e;
        }
        for (int spins = 0; pending.get() != 0; spins++) {
            if (spins < SPINS) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
            }
        }
        Throwable theirs = failure;
        failure = null;
        rethrow(mine != null ? mine : theirs);
    }

    private static void rethrow(Throwable t) {
        if (t instanceof RuntimeException) {
            throw (RuntimeException) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    /** Runs this thread's share of the published range task. */
    private void part(int index) {
        int from = partStart(index);
        int to = partStart(index + 1);
        if (from < to) {
            range.run(from, to);
        }
    }

    private void work(int index) {
        long seen = 0;
        while (true) {
            long g;
            for (int spins = 0; (g = generation) == seen; spins++) {
                if (closed) {
                    return;
                }
                if (spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            seen = g;
            try {
                part(index);
            } catch (Throwable e) {
                failure = e;
            }
            if (pending.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    /** Stops the workers (they finish nothing further; a later split {@link #mul} or {@link #forEachRange} fails). */
    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
    }
}
