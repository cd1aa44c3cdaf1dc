package dev.flinkrwkv.jobs.cli;

import dev.flinkrwkv.jobs.bench.OperatorBench;
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
 * (every 10 s by default) against the bare batched evaluator at the same batch size, and the size and
 * duration of its checkpoints, for each key count asked for.
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
                + " [--rate RECORDS_PER_S] [--evaluator-threads 1] [--dir CHECKPOINT_DIR]";
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        Path model = args.path("model");
        RwkvModel m = RwkvModel.load(model);
        int batch = args.integer("batch", 64);
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
        double bare = bareTokensPerSecond(m, batch, threads);
        out.printf("model %s: RWKV %s, %d layers x %d, state %d floats (%d KB stored as %s)%n",
                model.getFileName(), m.version(), m.layers(), m.embed(), m.stateSize(),
                (long) m.stateSize() * precision.bytesPerValue() / 1024, precision);
        out.printf("records of %d tokens, %d per key, keys round-robin; batch %d; checkpoints every %.0f s;"
                + " resident bound %d MB; source rate %s; evaluator threads %d; bare batched evaluator: %.0f tokens/s%n",
                tokens, rounds, batch, cpSeconds, residentMb, rate > 0 ? rate + " records/s" : "unlimited", threads, bare);
        out.printf("%-8s %10s %12s %8s %6s %14s %14s %12s%n", "keys", "tokens", "operator t/s", "ratio",
                "cps", "last full MB", "last incr MB", "last cp ms");
        OperatorBench bench = new OperatorBench(model.toString(), batch, threads, tokens, residentMb << 20, precision,
                Duration.ofMillis((long) (cpSeconds * 1000)), dir, rate);
        for (String k : args.string("keys", "10000,100000").split(",")) {
            int keys = Integer.parseInt(k.trim());
            OperatorBench.Result r;
            try {
                r = bench.run(keys, rounds);
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                Throwable root = e;
                while (root.getCause() != null) {
                    root = root.getCause();
                }
                throw new IOException("benchmark run with " + keys + " keys failed: " + e + " (root cause: " + root + ")", e);
            }
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

    /**
     * The batched evaluator alone, on {@code threads} threads as the operator's: {@code batch} states, one token
     * each per step, for about 3 s after warm-up.
     */
    static double bareTokensPerSecond(RwkvModel m, int batch, int threads) {
        try (RwkvEvaluator ev = m.newEvaluator(threads)) {
            return bareTokensPerSecond(ev, m, batch);
        }
    }

    private static double bareTokensPerSecond(RwkvEvaluator ev, RwkvModel m, int batch) {
        RwkvState[] states = new RwkvState[batch];
        int[] tokens = new int[batch];
        for (int i = 0; i < batch; i++) {
            states[i] = m.initialState();
            tokens[i] = 32 + i % 95;
        }
        float[] logits = new float[batch * m.vocab()];
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < 1_000_000_000L) {
            ev.stepBatch(states, tokens, batch, logits);
        }
        long steps = 0;
        t0 = System.nanoTime();
        while (System.nanoTime() - t0 < 3_000_000_000L) {
            ev.stepBatch(states, tokens, batch, logits);
            steps++;
        }
        return steps * batch / ((System.nanoTime() - t0) / 1e9);
    }
}
