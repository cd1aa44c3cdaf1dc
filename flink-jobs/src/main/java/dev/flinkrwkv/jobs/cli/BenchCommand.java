package dev.flinkrwkv.jobs.cli;

import dev.flinkrwkv.math.MatMulKernel;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;

/**
 * {@code bench}: single-stream tokens per second (warm-up excluded, median of several runs) and the weight
 * bytes read per token, hence the achieved weight bandwidth.
 */
public final class BenchCommand implements Command {
    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "single-stream tokens/s and weight bytes read per token";
    }

    @Override
    public String usage() {
        return "--model MODEL.bin [--runs 5] [--seconds 1]";
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        RwkvModel m = RwkvModel.load(args.path("model"));
        int runs = args.integer("runs", 5);
        double seconds = args.number("seconds", 1.0);
        if (runs < 1 || seconds <= 0) {
            throw new UsageException("--runs must be >= 1 and --seconds > 0");
        }
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState state = m.initialState();
        float[] logits = new float[m.vocab()];
        // warm-up: let the JIT compile the hot loops, and size the runs to about --seconds each
        long t0 = System.nanoTime();
        int warm = 0;
        while (System.nanoTime() - t0 < 1_000_000_000L || warm < 32) {
            ev.step(state, warm % m.vocab(), logits);
            warm++;
        }
        double perToken = (System.nanoTime() - t0) / 1e9 / warm;
        int tokens = (int) Math.max(16, Math.min(1_000_000, seconds / perToken));
        double[] rates = new double[runs];
        for (int r = 0; r < runs; r++) {
            long s = System.nanoTime();
            for (int i = 0; i < tokens; i++) {
                ev.step(state, (i * 31 + r) % m.vocab(), logits);
            }
            rates[r] = tokens / ((System.nanoTime() - s) / 1e9);
        }
        Arrays.sort(rates);
        double median = rates[runs / 2];
        long bytes = m.weightBytesPerToken();
        out.printf("model %s: RWKV %s, %d layers x %d, kernel %s, 1 thread%n", m.file().path().getFileName(),
                m.version(), m.layers(), m.embed(), MatMulKernel.get().name());
        out.printf("%-10s %14s %18s %12s%n", "batch", "tokens/s", "weight bytes/step", "GB/s");
        out.printf("%-10d %14.1f %18d %12.2f%n", 1, median, bytes, median * bytes / 1e9);
        return 0;
    }
}
