package dev.flinkrwkv.jobs.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The memory read bandwidth this machine really delivers, measured as STREAM does: each thread sums its own
 * share of an array far larger than any cache, in loads as wide as the CPU has, with several independent
 * accumulators (so that no chain of additions waits on the one before) and with one or several streams
 * (places of the array read in turn, each its own run for the prefetchers); the best repetition of the best
 * way of reading is the figure. A single stream of weights reads every byte once per token, so this figure
 * over the bytes per token is the single stream's speed limit.
 *
 * <p>A plain Java loop sums too slowly to show the memory's limit (C2 does not vectorize a float sum, whose
 * order it may not change); the vector probes need the {@code jdk.incubator.vector} module and are loaded by
 * name after checking for it, as the matrix kernel is, so this class runs without the module (then with the
 * plain loop only, and says so in {@link Result#probe}).
 */
public final class ReadBandwidth {
    /** Bytes read per repetition, split over the threads: 16x the largest L3 of a desktop or server CCD. */
    static final long PROBE_BYTES = 512L << 20;
    /** Repetitions of each way of reading; the best is taken (the others met a busier machine). */
    static final int REPETITIONS = 8;
    /** Floats each call of a probe's {@link Probe#sum} reads: 64 KB, so that the JIT compiles that method itself. */
    static final int CHUNK = 16 << 10;
    /** Streams per thread in the multi-stream reading. */
    static final int STREAMS = 4;

    private ReadBandwidth() {
    }

    /** One way of summing floats: its name (e.g. "256-bit vectors") and the sum of {@code a[from, to)}. */
    interface Probe {
        String name();

        double sum(float[] a, int from, int to);
    }

    /** The figure and the way of reading that gave it, e.g. "256-bit vectors, 4 streams". */
    public record Result(double gigabytesPerSecond, String probe) {
    }

    /** Read bandwidth of {@code threads} threads over {@value #PROBE_BYTES} bytes. */
    public static Result measure(int threads) {
        return measure(threads, PROBE_BYTES, REPETITIONS);
    }

    static Result measure(int threads, long bytes, int repetitions) {
        int each = (int) Math.min(Integer.MAX_VALUE - 64, bytes / 4 / threads / (STREAMS * CHUNK) * (STREAMS * CHUNK));
        if (each == 0) {
            throw new IllegalArgumentException(bytes + " bytes are too few for " + threads + " threads");
        }
        float[][] data = new float[threads][each];
        for (float[] a : data) {
            java.util.Arrays.fill(a, 1f);
        }
        double[] sums = new double[threads];
        Result best = new Result(0, "none");
        for (Probe p : probes()) {
            for (int streams : new int[] {1, STREAMS}) {
                for (int r = 0; r < repetitions; r++) {
                    double gbs = 4.0 * each * threads / timeParallel(threads, i -> sums[i] = sumAll(p, data[i], streams)) / 1e9;
                    for (double s : sums) { // also keeps the sums alive
                        if (s != each) {
                            throw new IllegalStateException(p.name() + " summed " + s + " ones, not " + each);
                        }
                    }
                    if (gbs > best.gigabytesPerSecond()) {
                        best = new Result(gbs, p.name() + ", " + streams + (streams == 1 ? " stream" : " streams"));
                    }
                }
            }
        }
        return best;
    }

    /**
     * Sums all of {@code a} as {@code streams} equal parts read in turn, a chunk of each at a time (the
     * length is a multiple of {@code streams x} {@value #CHUNK}).
     */
    static double sumAll(Probe p, float[] a, int streams) {
        int part = a.length / streams;
        double s = 0;
        for (int from = 0; from < part; from += CHUNK) {
            for (int k = 0; k < streams; k++) {
                int at = k * part + from;
                s += p.sum(a, at, Math.min(at + CHUNK, (k + 1) * part));
            }
        }
        return s;
    }

    /** The vector probes when the module is present (the CPU's preferred width and 256 bits), else the plain loop. */
    static List<Probe> probes() {
        List<Probe> out = new ArrayList<>();
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                for (Object p : (Object[]) Class.forName("dev.flinkrwkv.jobs.bench.VectorReadProbes")
                        .getMethod("all").invoke(null)) {
                    out.add((Probe) p);
                }
            } catch (ReflectiveOperationException | LinkageError e) {
                // the module is there but unusable: the plain loop below is the probe
            }
        }
        if (out.isEmpty()) {
            out.add(PLAIN);
        }
        return out;
    }

    /** Eight scalar accumulators: what plain Java reads without the Vector API. */
    static final Probe PLAIN = new Probe() {
        @Override
        public String name() {
            return "plain Java (no jdk.incubator.vector)";
        }

        @Override
        public double sum(float[] a, int from, int to) {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
            int i = from;
            for (; i <= to - 8; i += 8) {
                s0 += a[i];
                s1 += a[i + 1];
                s2 += a[i + 2];
                s3 += a[i + 3];
                s4 += a[i + 4];
                s5 += a[i + 5];
                s6 += a[i + 6];
                s7 += a[i + 7];
            }
            for (; i < to; i++) {
                s0 += a[i];
            }
            return (double) s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
        }
    };

    /** Seconds for {@code threads} threads to each run {@code part} with its index. */
    static double timeParallel(int threads, IntConsumer part) {
        Thread[] ts = new Thread[threads];
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            int i = t;
            ts[t] = new Thread(() -> part.accept(i));
            ts[t].start();
        }
        for (Thread t : ts) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }
}
