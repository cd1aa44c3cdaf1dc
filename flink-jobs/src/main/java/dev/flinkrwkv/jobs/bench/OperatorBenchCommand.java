package dev.flinkrwkv.jobs.bench;

import dev.flinkrwkv.backend.Backend;
import dev.flinkrwkv.backend.Backends;
import dev.flinkrwkv.backend.Device;
import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.DeviceArgs;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.UsageException;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.state.StatePrecision;

import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * {@code operator-bench}: the keyed operator's tokens/s on a local MiniCluster with RocksDB and checkpoints
 * (every 10 s by default) against the bare evaluator, in two forms:
 * <ul>
 *   <li>{@code --keys 10000,100000}: keys in round-robin order, one row per key count, with the size and
 *       duration of its checkpoints, against the bare batched evaluator at the same batch size;
 *   <li>{@code --key-distribution single,uniform,zipf:1.1 --tokens 16,64,256}: one row per distribution and
 *       record length, against the best bare mode for that shape: sequence mode for one key (its batch of
 *       records as one sequence), batch mode for many keys.
 * </ul>
 */
public final class OperatorBenchCommand implements Command {
    @Override
    public String name() {
        return "operator-bench";
    }

    @Override
    public String summary() {
        return "keyed operator (MiniCluster, RocksDB, checkpoints) vs bare batched evaluator; checkpoint sizes";
    }

    @Override
    public String usage() {
        return "--model MODEL.bin [--keys 10000,100000] [--rounds 1] [--batch 64] [--tokens 8]"
                + " [--checkpoint-seconds 10] [--resident-mb 256] [--precision FLOAT32|FLOAT16|BFLOAT16]"
                + " [--rate RECORDS_PER_S] [--evaluator-threads 1] [--max-batch-tokens "
                + RwkvEvaluator.DEFAULT_MAX_BATCH_TOKENS + "] [--dir CHECKPOINT_DIR] " + DeviceArgs.USAGE
                + " | --model MODEL.bin --key-distribution single,uniform,zipf:1.1 [--tokens 16,64,256] [--keys 200]"
                + " [--run-tokens 20000] [--batch 64] [--evaluator-threads 1] [--max-batch-tokens N] [--device D] ...";
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        Path model = args.path("model");
        RwkvModel m = RwkvModel.load(model);
        int batch = args.integer("batch", 64);
        Device device = DeviceArgs.parse(args);
        int maxBatchTokens = args.integer("max-batch-tokens", RwkvEvaluator.DEFAULT_MAX_BATCH_TOKENS);
        if (maxBatchTokens < 1) {
            throw new UsageException("--max-batch-tokens must be >= 1");
        }
        if (args.has("key-distribution")) {
            return distributions(args, m, model, batch, maxBatchTokens, device, out);
        }
        int tokens = args.integer("tokens", 8);
        int rounds = args.integer("rounds", 1);
        double cpSeconds = args.number("checkpoint-seconds", 10);
        long residentMb = args.longValue("resident-mb", 256);
        int threads = args.integer("evaluator-threads", 1);
        StatePrecision precision;
        try {
            precision = StatePrecision.valueOf(args.string("precision", "FLOAT32").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--precision must be FLOAT32, FLOAT16 or BFLOAT16");
        }
        if (batch < 1 || tokens < 1 || rounds < 1 || threads < 1 || cpSeconds <= 0 || residentMb < 0) {
            throw new UsageException("--batch, --tokens, --rounds, --evaluator-threads must be >= 1, --checkpoint-seconds > 0");
        }
        Path dir = args.has("dir") ? args.path("dir") : Files.createTempDirectory("rwkv-operator-bench");
        double rate = args.number("rate", 0);
        double bare = bareTokensPerSecond(m, batch, threads, device);
        out.printf("model %s: RWKV %s, %d layers x %d, state %d floats (%d KB stored as %s)%n",
                model.getFileName(), m.version(), m.layers(), m.embed(), m.stateSize(),
                (long) m.stateSize() * precision.bytesPerValue() / 1024, precision);
        out.printf("records of %d tokens, %d per key, keys round-robin; batch %d; checkpoints every %.0f s;"
                + " resident bound %d MB; source rate %s; evaluator threads %d; device %s; bare batched steps: %.0f tokens/s%n",
                tokens, rounds, batch, cpSeconds, residentMb, rate > 0 ? rate + " records/s" : "unlimited", threads, device,
                bare);
        out.printf("%-8s %10s %12s %8s %6s %14s %14s %12s%n", "keys", "tokens", "operator t/s", "ratio",
                "cps", "last full MB", "last incr MB", "last cp ms");
        OperatorBench bench = new OperatorBench(model.toString(), batch, threads, maxBatchTokens, tokens, residentMb << 20, precision,
                Duration.ofMillis((long) (cpSeconds * 1000)), dir, rate).onDevice(device);
        for (String k : args.string("keys", "10000,100000").split(",")) {
            int keys = Integer.parseInt(k.trim());
            OperatorBench.Result r = run(bench, OperatorBench.KeyDistribution.parse("round-robin", keys),
                    (long) keys * rounds, keys + " keys");
            List<AbstractCheckpointStats> cps = r.checkpoints;
            AbstractCheckpointStats last = cps.isEmpty() ? null : cps.get(cps.size() - 1);
            out.printf("%-8d %10d %12.0f %8.2f %6d %14s %14s %12s%n", keys, r.tokens, r.tokensPerSecond(),
                    r.tokensPerSecond() / bare, cps.size(),
                    last == null ? "-" : String.format("%.1f", last.getStateSize() / 1e6),
                    last == null ? "-" : String.format("%.1f", last.getCheckpointedSize() / 1e6),
                    last == null ? "-" : Long.toString(last.getEndToEndDuration()));
            for (AbstractCheckpointStats s : cps) {
                long[] sa = OperatorBench.syncAsyncMillis(s);
                out.printf("           checkpoint %d: full %.1f MB, incremental %.1f MB, end to end %d ms,"
                        + " sync %d ms, async %d ms%n", s.getCheckpointId(), s.getStateSize() / 1e6,
                        s.getCheckpointedSize() / 1e6, s.getEndToEndDuration(), sa[0], sa[1]);
            }
        }
        return 0;
    }

    private static OperatorBench.Result run(OperatorBench bench, OperatorBench.KeyDistribution keys, long records,
                                            String what) throws IOException {
        try {
            return bench.run(keys, records);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            throw new IOException("benchmark run with " + what + " failed: " + e + " (root cause: " + root + ")", e);
        }
    }

    /** The table of key distributions x record lengths against the best bare mode for each. */
    private static int distributions(Args args, RwkvModel m, Path model, int batch, int maxBatchTokens, Device device,
                                     PrintStream out)
            throws IOException {
        int keys = args.integer("keys", 200);
        int threads = args.integer("evaluator-threads", 1);
        long runTokens = args.longValue("run-tokens", 20_000);
        double cpSeconds = args.number("checkpoint-seconds", 10);
        long residentMb = args.longValue("resident-mb", 256);
        if (keys < 1 || threads < 1 || runTokens < 1 || cpSeconds <= 0 || residentMb < 0) {
            throw new UsageException("--keys, --evaluator-threads, --run-tokens must be >= 1, --checkpoint-seconds > 0");
        }
        List<OperatorBench.KeyDistribution> dists = new java.util.ArrayList<>();
        for (String d : args.string("key-distribution", "single").split(",")) {
            try {
                dists.add(OperatorBench.KeyDistribution.parse(d, keys));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--key-distribution: " + e.getMessage());
            }
        }
        int[] lengths;
        try {
            lengths = java.util.Arrays.stream(args.string("tokens", "16,64,256").split(","))
                    .mapToInt(t -> Integer.parseInt(t.trim())).toArray();
        } catch (NumberFormatException e) {
            throw new UsageException("--tokens must be a list of token counts, e.g. 16,64,256");
        }
        if (java.util.Arrays.stream(lengths).anyMatch(t -> t < 1)) {
            throw new UsageException("--tokens must be >= 1");
        }
        Path dir = args.has("dir") ? args.path("dir") : Files.createTempDirectory("rwkv-operator-bench");
        out.printf("model %s: RWKV %s, %d layers x %d, vocabulary %d; batch %d records; %d tokens per pass at most;"
                        + " evaluator threads %d; %d keys for uniform and zipf; about %d tokens per run%n",
                model.getFileName(), m.version(), m.layers(), m.embed(), m.vocab(), batch, maxBatchTokens, threads,
                keys, runTokens);
        double bareBatch = bareTokensPerSecond(m, batch, threads, device);
        out.printf("%-12s %7s %13s %-14s %10s %7s%n", "keys", "tokens", "operator t/s", "bare mode", "bare t/s", "ratio");
        for (OperatorBench.KeyDistribution d : dists) {
            for (int t : lengths) {
                String mode;
                double bare;
                if (d.keys() == 1) {
                    int len = (int) Math.min((long) batch * t, 1 << 16);
                    mode = "sequence " + len;
                    bare = bareSequenceTokensPerSecond(m, len, threads, maxBatchTokens);
                } else {
                    mode = "batch " + batch;
                    bare = bareBatch;
                }
                OperatorBench bench = new OperatorBench(model.toString(), batch, threads, maxBatchTokens, t,
                        residentMb << 20, StatePrecision.FLOAT32, Duration.ofMillis((long) (cpSeconds * 1000)), dir, 0)
                        .onDevice(device);
                long records = Math.max(batch, (runTokens + t - 1) / t); // at least one full batch
                OperatorBench.Result r = run(bench, d, records, d.name() + ", " + t + " tokens");
                out.printf("%-12s %7d %13.0f %-14s %10.0f %7.2f%n", d.name(), t, r.tokensPerSecond(), mode, bare,
                        r.tokensPerSecond() / bare);
            }
        }
        return 0;
    }

    /**
     * Sequence mode alone (one key, {@code len} tokens per call, log-probs of every token as the operator
     * computes them), on {@code threads} threads, for about 3 s after warm-up.
     */
    static double bareSequenceTokensPerSecond(RwkvModel m, int len, int threads, int maxBatchTokens) {
        try (RwkvEvaluator ev = m.newEvaluator(threads, maxBatchTokens)) {
            RwkvState state = m.initialState();
            int[] tokens = new int[len];
            for (int i = 0; i < len; i++) {
                tokens[i] = 32 + (i * 37) % 95;
            }
            float[] logProbs = new float[len - 1];
            return timed(() -> ev.stepSequence(state, tokens, 0, len, logProbs, null), len);
        }
    }

    /** Tokens per second of {@code step} ({@code tokens} each), run for 1 s to warm up, then about 3 s. */
    private static double timed(Runnable step, int tokens) {
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < 1_000_000_000L) {
            step.run();
        }
        long steps = 0;
        t0 = System.nanoTime();
        while (System.nanoTime() - t0 < 3_000_000_000L) {
            step.run();
            steps++;
        }
        return (double) steps * tokens / ((System.nanoTime() - t0) / 1e9);
    }

    /**
     * Batched steps alone on {@code device}'s backend (on the CPU: {@code threads} threads as the operator's):
     * {@code batch} states, one token each per step, for about 3 s after warm-up.
     */
    static double bareTokensPerSecond(RwkvModel m, int batch, int threads, Device device) {
        try (Backend backend = Backends.open(device, m, threads)) {
            RwkvState[] states = new RwkvState[batch];
            int[] tokens = new int[batch];
            for (int i = 0; i < batch; i++) {
                states[i] = m.initialState();
                tokens[i] = 32 + i % 95;
            }
            float[] logits = new float[batch * m.vocab()];
            return timed(() -> backend.stepBatch(states, tokens, batch, logits), batch);
        }
    }
}
