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
 * {@code bench}: tokens per second of batched steps (B keys, one token each, with logits), of sequence
 * mode (one key, T tokens, log-probs of each: {@code --seq}) and of sequence mode with the last token's logits
 * only ({@code --seq-last}, prompt prefill: the head runs once per call, as rwkv.cpp's sequence mode), with the weight bytes each call reads and hence the
 * achieved weight bandwidth, set against this machine's memory read bandwidth as {@link ReadBandwidth}
 * probes it: a single stream reads every weight once per token, so that bandwidth over the bytes per token
 * is its speed limit. The copy bandwidth (bytes read plus bytes written) is printed beside it for reference.
 *
 * <p>Each measurement is warmed up until the JIT is done with it and its rate settles, then timed in five
 * runs over {@code --seconds} in all; the median run is reported. {@code --tsv} prints the rows as
 * tab-separated values (the rest as {@code #} comments) for scripts such as {@code bench/compare-rwkv-cpp.sh}.
 */
public final class BenchCommand implements Command {
    /** Bytes copied per measurement of the copy bandwidth: far beyond any cache. */
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
        return "--model MODEL.bin [--batch 1,8,64,256|none] [--seq 16,256|none] [--seq-last LEN,...] [--threads 1] [--seconds 2] [--tsv] " + DeviceArgs.USAGE;
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        RwkvModel m = RwkvModel.load(args.path("model"));
        Device device = DeviceArgs.parse(args);
        List<Integer> batches = sizes(args, "batch", "1,8,64,256");
        List<Integer> seqs = sizes(args, "seq", "16,256");
        List<Integer> seqLasts = sizes(args, "seq-last", "none");
        int threads = args.integer("threads", 1);
        double seconds = args.number("seconds", 2.0);
        if (threads < 1 || seconds <= 0) {
            throw new UsageException("--threads must be >= 1 and --seconds > 0");
        }
        boolean tsv = args.flag("tsv");
        double copyGbs = copyBandwidth(threads);
        ReadBandwidth.Result read = ReadBandwidth.measure(threads);
        double readGbs = read.gigabytesPerSecond();
        String comment = tsv ? "# " : "";
        out.printf("%smodel %s: RWKV %s, %d layers x %d, vocabulary %d, %s; kernel %s, %d thread%s; CPU %s%n", comment,
                m.file().path().getFileName(), m.version(), m.layers(), m.embed(), m.vocab(), storage(m),
                MatMulKernel.get().name(), threads, threads == 1 ? "" : "s", cpuModel());
        out.printf("%smemory bandwidth (%d thread%s): read %.2f GB/s (%s), copy %.2f GB/s (read+write); "
                        + "single-stream limit %.1f tokens/s%n", comment,
                threads, threads == 1 ? "" : "s", readGbs, read.probe(), copyGbs, readGbs * 1e9 / m.weightBytesPerToken());
        Table table = tsv ? new Table(out, "%s\t%d\t%d\t%.2f\t%d\t%.3f\t%.3f\t%.1f\t%.1f%n")
                : new Table(out, "%-8s %6d %7d %12.1f %18d %10.2f %10.2f %8.0f%% %9.0f%%%n");
        if (tsv) {
            out.println("mode\tsize\tthreads\ttokens_per_s\tweight_bytes_per_call\tweight_gbs\tread_limit_gbs\tof_limit_pct\tcpu_share_pct");
        } else {
            out.printf("%-8s %6s %7s %12s %18s %10s %10s %9s %10s%n", "mode", "size", "threads", "tokens/s",
                    "weight bytes/call", "GB/s", "limit GB/s", "of limit", "CPU share");
        }
        // batched steps on the device's backend; sequence mode on the CPU evaluator (on a GPU: the backend's
        // sequence mode, which gives the last logits only); the CPU evaluator for the bytes each call reads
        try (RwkvEvaluator ev = m.newEvaluator(threads); Backend backend = Backends.open(device, m, threads)) {
            boolean cpu = backend.name().equals("cpu");
            if (!cpu) {
                out.printf("%sdevice %s (the memory bandwidth above is the host's)%n", comment, backend.name());
            }
            for (int b : batches) {
                Row r = batch(backend, b, threads, seconds);
                table.print("batch", b, threads, r, WeightTraffic.perBatch(ev, b, true), readGbs);
            }
            for (int t : seqs) {
                Row r = cpu ? sequence(ev, t, seconds) : sequence(backend, t, seconds);
                table.print("seq", t, threads, r, WeightTraffic.perSequence(ev, t, cpu, !cpu), readGbs);
            }
            for (int t : seqLasts) {
                Row r = cpu ? lastLogits(ev, t, seconds) : sequence(backend, t, seconds);
                table.print("seq-last", t, threads, r, WeightTraffic.perSequence(ev, t, false, true), readGbs);
            }
        }
        return 0;
    }

    private static List<Integer> sizes(Args args, String option, String def) throws UsageException {
        List<String> given = args.strings(option);
        List<String> chosen = given.isEmpty() ? List.of(def.split(",")) : given;
        List<Integer> out = new ArrayList<>();
        if (chosen.equals(List.of("none"))) {
            return out;
        }
        for (String s : chosen) {
            try {
                int v = Integer.parseInt(s);
                if (v < 1) {
                    throw new NumberFormatException();
                }
                out.add(v);
            } catch (NumberFormatException e) {
                throw new UsageException("--" + option + " takes positive integers separated by commas, or none, not '" + s + "'");
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

    /** The rows of the table, as aligned text or as tab-separated values ({@code --tsv}). */
    private static final class Table {
        private final PrintStream out;
        private final String format;

        Table(PrintStream out, String format) {
            this.out = out;
            this.format = format;
        }

        void print(String mode, int size, int threads, Row r, long bytesPerCall, double limitGbs) {
            double gbs = r.callsPerSecond * bytesPerCall / 1e9;
            out.printf(java.util.Locale.ROOT, format, mode, size, threads, r.callsPerSecond * r.tokensPerCall,
                    bytesPerCall, gbs, limitGbs, 100 * gbs / limitGbs, 100 * r.cpuShare);
        }
    }

    /** The storage types of the model's tensors, most tensors first, e.g. "FP16 (86), FP32 (62)". */
    private static String storage(RwkvModel m) {
        return m.storageTypes().entrySet().stream()
                .sorted((a, b) -> b.getValue() - a.getValue())
                .map(e -> e.getKey() + " (" + e.getValue() + ")")
                .collect(java.util.stream.Collectors.joining(", "));
    }

    /** The CPU's model name from /proc/cpuinfo (Linux), else the JVM's architecture. */
    static String cpuModel() {
        try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .orElse(System.getProperty("os.arch"));
        } catch (IOException | java.io.UncheckedIOException e) {
            return System.getProperty("os.arch");
        }
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

    /** Sequence mode on the CPU evaluator with the last token's logits only: the head once per call. */
    private static Row lastLogits(RwkvEvaluator ev, int len, double seconds) {
        RwkvModel m = ev.model();
        RwkvState state = m.initialState();
        int[] tokens = new Random(len).ints(len, 0, m.vocab()).toArray();
        float[] last = new float[m.vocab()];
        return time(() -> ev.stepSequence(state, tokens, 0, len, null, last), len, ev.threads(), seconds);
    }

    /** Timed runs after the warm-up; the reported rate is their median. */
    private static final int RUNS = 5;

    /**
     * Warm-up until the JIT has settled (see {@link #warmUp}; at most ten times the timed runs, 3-30 s), then {@value #RUNS} runs of calls for at least
     * {@code seconds / RUNS} each; the median run's rate is reported, so one run disturbed by another process
     * does not move the figure.
     */
    private static Row time(Runnable call, int tokensPerCall, int threads, double seconds) {
        warmUp(call, seconds / 3, Math.min(30, Math.max(3, 10 * seconds)));
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
     * Runs {@code call} in rounds of 0.2 s until the JIT is done with it and its rate has settled: no
     * compilation finished in the last round and none running or queued at its end ({@link #jitIdle}; a
     * method compiled, or recompiled after a deoptimization, changes the rate by more than any noise, and on
     * a busy machine the compiler threads get little CPU, so a compile can land seconds in) and two rounds
     * in a row within {@value #SETTLED}x of each other; at least {@code minSeconds}, at most
     * {@code maxSeconds}. Vector API code measured before C2 has compiled it runs tens of times slower than
     * compiled.
     */
    private static void warmUp(Runnable call, double minSeconds, double maxSeconds) {
        long start = System.nanoTime();
        long minUntil = start + (long) (minSeconds * 1e9);
        long maxUntil = start + (long) (maxSeconds * 1e9);
        double previous = 0;
        long compiled = compilationMillis();
        while (true) {
            double rate = callsPerSecond(call, 200_000_000L);
            long now = System.nanoTime();
            long compiledNow = compilationMillis();
            boolean jitQuiet = compiledNow == compiled && jitIdle();
            boolean settled = previous > 0 && Math.max(rate, previous) <= SETTLED * Math.min(rate, previous);
            if ((jitQuiet && settled && now >= minUntil) || now >= maxUntil) {
                return;
            }
            previous = rate;
            compiled = compiledNow;
        }
    }

    /** Two warm-up rounds whose rates differ by at most this factor have settled. */
    private static final double SETTLED = 1.03;

    /**
     * Whether no compilation is running or queued, as HotSpot's {@code Compiler.queue} diagnostic command
     * lists them (one line per method, named {@code Class::method}); true where the JVM has no such command.
     * A round with no compilation finished is not enough: on a loaded machine C2's queue held dozens of
     * methods while rounds went by without one finishing.
     */
    private static boolean jitIdle() {
        try {
            Object queue = java.lang.management.ManagementFactory.getPlatformMBeanServer().invoke(
                    new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerQueue",
                    new Object[] {null}, new String[] {String[].class.getName()});
            return !(queue instanceof String) || !((String) queue).contains("::");
        } catch (javax.management.JMException | RuntimeException e) {
            return true;
        }
    }

    /** Milliseconds the JIT has spent compiling in this process, or 0 where the JVM does not say. */
    private static long compilationMillis() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    private static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean
                ? ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime() : 0;
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
            double secs = ReadBandwidth.timeParallel(threads, i -> System.arraycopy(src[i], 0, dst[i], 0, each));
            best = Math.max(best, 2.0 * each * 8 * threads / secs / 1e9);
        }
        return best;
    }
}
