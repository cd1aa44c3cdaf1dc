package dev.flinkrwkv.jobs.bench;

import dev.flinkrwkv.backend.Backend;
import dev.flinkrwkv.backend.Backends;
import dev.flinkrwkv.backend.Device;
import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.DeviceArgs;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.UsageException;
import dev.flinkrwkv.math.MatMulKernel;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.rwkv.WeightTraffic;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * {@code bench}: tokens per second of batched steps (B keys, one token each, with logits) and of sequence
 * mode (one key, T tokens, log-probs of each), with the weight bytes each call reads and hence the
 * achieved weight bandwidth, set against this machine's measured memory read bandwidth: a single stream
 * reads every weight once per token, so that bandwidth over the bytes per token is its speed limit. The
 * copy bandwidth (bytes read plus bytes written) is printed beside it for reference.
 *
 * <p>Each measurement is warmed up until its rate settles (the JIT compiles the hot loops), then timed in
 * five runs over {@code --seconds} in all; the median run is reported.
 */
public final class BenchCommand implements Command {
    /** Bytes copied per measurement of the memory bandwidth: far beyond any cache. */
    private static final int COPY_BYTES = 256 << 20;

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "tokens/s of batched steps and sequence mode against the memory-bandwidth limit";
    }

    @Override
    public String usage() {
        return "--model MODEL.bin [--batch 1,8,64,256] [--seq 16,256] [--threads 1] [--seconds 2] " + DeviceArgs.USAGE;
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        RwkvModel m = RwkvModel.load(args.path("model"));
        Device device = DeviceArgs.parse(args);
        List<Integer> batches = sizes(args, "batch", "1,8,64,256");
        List<Integer> seqs = sizes(args, "seq", "16,256");
        int threads = args.integer("threads", 1);
        double seconds = args.number("seconds", 2.0);
        if (threads < 1 || seconds <= 0) {
            throw new UsageException("--threads must be >= 1 and --seconds > 0");
        }
        double copyGbs = copyBandwidth(threads);
        double readGbs = readBandwidth(threads);
        out.printf("model %s: RWKV %s, %d layers x %d, vocabulary %d; kernel %s, %d thread%s%n",
                m.file().path().getFileName(), m.version(), m.layers(), m.embed(), m.vocab(),
                MatMulKernel.get().name(), threads, threads == 1 ? "" : "s");
        out.printf("memory bandwidth (%d thread%s): read %.2f GB/s, copy %.2f GB/s (read+write); "
                        + "single-stream limit %.1f tokens/s%n",
                threads, threads == 1 ? "" : "s", readGbs, copyGbs, readGbs * 1e9 / m.weightBytesPerToken());
        out.printf("%-6s %6s %12s %18s %10s %9s %10s%n", "mode", "size", "tokens/s", "weight bytes/call", "GB/s",
                "of limit", "CPU share");
        // batched steps on the device's backend; the CPU evaluator for sequence mode with log-probs (on a GPU:
        // the backend's sequence mode with the last logits only) and for the bytes each call reads
        try (RwkvEvaluator ev = m.newEvaluator(threads); Backend backend = Backends.open(device, m, threads)) {
            boolean cpu = backend.name().equals("cpu");
            if (!cpu) {
                out.printf("device %s (the memory bandwidth above is the host's)%n", backend.name());
            }
            for (int b : batches) {
                Row r = batch(backend, b, threads, seconds);
                print(out, "batch", b, r, WeightTraffic.perBatch(ev, b, true), readGbs);
            }
            for (int t : seqs) {
                Row r = cpu ? sequence(ev, t, seconds) : sequence(backend, t, seconds);
                print(out, "seq", t, r, WeightTraffic.perSequence(ev, t, cpu, !cpu), readGbs);
            }
        }
        return 0;
    }

    private static List<Integer> sizes(Args args, String option, String def) throws UsageException {
        List<String> given = args.strings(option);
        List<Integer> out = new ArrayList<>();
        for (String s : given.isEmpty() ? List.of(def.split(",")) : given) {
            try {
                int v = Integer.parseInt(s);
                if (v < 1) {
                    throw new NumberFormatException();
                }
                out.add(v);
            } catch (NumberFormatException e) {
                throw new UsageException("--" + option + " takes positive integers separated by commas, not '" + s + "'");
            }
        }
        return out;
    }

    /**
     * One measurement: calls per second, tokens per call, and the CPU share: process CPU time over wall
     * time x threads. Below 100% the cores were shared with other work (or the threads waited), and the
     * figures understate what idle cores would give.
     */
    private static final class Row {
        final double callsPerSecond;
        final int tokensPerCall;
        final double cpuShare;

        Row(double callsPerSecond, int tokensPerCall, double cpuShare) {
            this.callsPerSecond = callsPerSecond;
            this.tokensPerCall = tokensPerCall;
            this.cpuShare = cpuShare;
        }
    }

    private static void print(PrintStream out, String mode, int size, Row r, long bytesPerCall, double limitGbs) {
        double gbs = r.callsPerSecond * bytesPerCall / 1e9;
        out.printf("%-6s %6d %12.1f %18d %10.2f %8.0f%% %9.0f%%%n", mode, size, r.callsPerSecond * r.tokensPerCall,
                bytesPerCall, gbs, 100 * gbs / limitGbs, 100 * r.cpuShare);
    }

    private static Row batch(Backend backend, int batch, int threads, double seconds) {
        RwkvModel m = backend.model();
        RwkvState[] states = new RwkvState[batch];
        for (int b = 0; b < batch; b++) {
            states[b] = m.initialState();
        }
        int[] tokens = new Random(batch).ints(batch, 0, m.vocab()).toArray();
        float[] logits = new float[batch * m.vocab()];
        return time(() -> backend.stepBatch(states, tokens, batch, logits), batch, threads, seconds);
    }

    /** Sequence mode on a GPU backend: {@code len} tokens, the last logits back. */
    private static Row sequence(Backend backend, int len, double seconds) {
        RwkvModel m = backend.model();
        RwkvState state = m.initialState();
        int[] tokens = new Random(len).ints(len, 0, m.vocab()).toArray();
        float[] last = new float[m.vocab()];
        return time(() -> backend.stepSequence(state, tokens, 0, len, last), len, 1, seconds);
    }

    private static Row sequence(RwkvEvaluator ev, int len, double seconds) {
        RwkvModel m = ev.model();
        RwkvState state = m.initialState();
        int[] tokens = new Random(len).ints(len, 0, m.vocab()).toArray();
        float[] logProbs = new float[len - 1];
        return time(() -> ev.stepSequence(state, tokens, 0, len, logProbs, null), len, ev.threads(), seconds);
    }

    /** Timed runs after the warm-up; the reported rate is their median. */
    private static final int RUNS = 5;

    /**
     * Warm-up until the JIT has settled (see {@link #warmUp}), then {@value #RUNS} runs of calls for at least
     * {@code seconds / RUNS} each; the median run's rate is reported, so one run disturbed by another process
     * does not move the figure.
     */
    private static Row time(Runnable call, int tokensPerCall, int threads, double seconds) {
        warmUp(call, seconds / 3);
        double[] rates = new double[RUNS];
        long cpu = processCpuNanos();
        long start = System.nanoTime();
        for (int r = 0; r < RUNS; r++) {
            rates[r] = callsPerSecond(call, (long) (seconds / RUNS * 1e9));
        }
        double cpuShare = (processCpuNanos() - cpu) / (double) (System.nanoTime() - start) / threads;
        java.util.Arrays.sort(rates);
        return new Row(rates[RUNS / 2], tokensPerCall, cpuShare);
    }

    /** Runs {@code call} repeatedly for at least {@code nanos} (at least once); its calls per second. */
    private static double callsPerSecond(Runnable call, long nanos) {
        long start = System.nanoTime();
        int calls = 0;
        long now;
        do {
            call.run();
            calls++;
            now = System.nanoTime();
        } while (now - start < nanos);
        return calls / ((now - start) / 1e9);
    }

    /**
     * Runs {@code call} in rounds of 0.2 s until two rounds in a row agree within 5% (at least
     * {@code minSeconds}, at most {@value #MAX_WARM_UP_SECONDS} s). A fixed warm-up is not enough: on a busy
     * machine the JIT's compiler threads get little CPU, and Vector API code measured before C2 has compiled
     * it runs in the interpreter, tens of times slower than compiled.
     */
    private static void warmUp(Runnable call, double minSeconds) {
        long start = System.nanoTime();
        long minUntil = start + (long) (minSeconds * 1e9);
        long maxUntil = start + (long) (MAX_WARM_UP_SECONDS * 1e9);
        double previous = 0;
        while (true) {
            double rate = callsPerSecond(call, 200_000_000L);
            long now = System.nanoTime();
            boolean settled = previous > 0 && Math.abs(rate - previous) <= 0.05 * Math.max(rate, previous);
            if ((settled && now >= minUntil) || now >= maxUntil) {
                return;
            }
            previous = rate;
        }
    }

    private static final double MAX_WARM_UP_SECONDS = 15;

    private static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean
                ? ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime() : 0;
    }

    /**
     * Memory read bandwidth: {@code threads} threads each summing its share of {@value #COPY_BYTES} bytes
     * of longs (C2 vectorizes the sum), the best of 10 rounds. This is what reading weights is bound by.
     */
    static double readBandwidth(int threads) {
        int each = COPY_BYTES / 8 / threads;
        long[][] src = new long[threads][each];
        for (long[] a : src) {
            java.util.Arrays.fill(a, 1);
        }
        long[] sums = new long[threads];
        double best = 0;
        for (int round = 0; round < 10; round++) {
            best = Math.max(best, 8.0 * each * threads / timeParallel(threads, i -> sums[i] = sum(src[i])) / 1e9);
        }
        if (java.util.Arrays.stream(sums).sum() != (long) each * threads) { // keeps the sums alive
            throw new IllegalStateException("read bandwidth probe miscounted");
        }
        return best;
    }

    /** Sums in 64 KB slices, so that the JIT compiles the slice loop itself (not an on-stack replacement). */
    private static long sum(long[] a) {
        long s = 0;
        for (int from = 0; from < a.length; from += 8192) {
            s += sum(a, from, Math.min(a.length, from + 8192));
        }
        return s;
    }

    private static long sum(long[] a, int from, int to) {
        long s = 0;
        for (int i = from; i < to; i++) {
            s += a[i];
        }
        return s;
    }

    /** Seconds for {@code threads} threads to each run {@code part} with its index. */
    private static double timeParallel(int threads, java.util.function.IntConsumer part) {
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

    /**
     * Memory copy bandwidth, counting bytes read plus bytes written: {@code threads} threads each copying
     * its share of {@value #COPY_BYTES} bytes with {@link System#arraycopy}; the best of 5 rounds.
     */
    static double copyBandwidth(int threads) {
        int each = COPY_BYTES / 8 / threads;
        long[][] src = new long[threads][each];
        long[][] dst = new long[threads][each];
        for (long[] a : src) {
            java.util.Arrays.fill(a, 1);
        }
        double best = 0;
        for (int round = 0; round < 5; round++) {
            double secs = timeParallel(threads, i -> System.arraycopy(src[i], 0, dst[i], 0, each));
            best = Math.max(best, 2.0 * each * 8 * threads / secs / 1e9);
        }
        return best;
    }
}
