package dev.flinkrwkv.jobs.cli;

import dev.flinkrwkv.jobs.runtime.OperatorSettings;

import java.time.Duration;

/** The keyed RWKV operator's options that the job commands share: batching across keys, threads, the device. */
public final class OperatorArgs {
    public static final String USAGE = "[--batch-size " + OperatorSettings.DEFAULTS.batchSize()
            + "] [--batch-delay-ms " + OperatorSettings.DEFAULTS.batchDelay().toMillis()
            + "] [--evaluator-threads " + OperatorSettings.DEFAULTS.evaluatorThreads()
            + "] [--max-batch-tokens " + OperatorSettings.DEFAULTS.maxBatchTokens() + "] " + DeviceArgs.USAGE;

    private OperatorArgs() {}

    public static OperatorSettings parse(Args a) {
        OperatorSettings d = OperatorSettings.DEFAULTS;
        int size = atLeast(a, "batch-size", d.batchSize(), 1);
        long delayMs = a.longValue("batch-delay-ms", d.batchDelay().toMillis());
        if (delayMs < 0) {
            throw new UsageException("--batch-delay-ms must not be negative, got " + delayMs);
        }
        int threads = atLeast(a, "evaluator-threads", d.evaluatorThreads(), 1);
        int tokens = atLeast(a, "max-batch-tokens", d.maxBatchTokens(), 1);
        return new OperatorSettings(size, Duration.ofMillis(delayMs), threads, tokens, DeviceArgs.parse(a));
    }

    private static int atLeast(Args a, String name, int def, int min) {
        int n = a.integer(name, def);
        if (n < min) {
            throw new UsageException("--" + name + " must be at least " + min + ", got " + n);
        }
        return n;
    }
}
