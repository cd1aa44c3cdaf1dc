package dev.flinkrwkv.jobs.cli;

import java.time.Duration;

/** The keyed RWKV operator's options that the job commands share: how records are batched across keys. */
public final class OperatorArgs {
    public static final String USAGE = "[--batch-size 64] [--batch-delay-ms 50]";

    private OperatorArgs() {}

    /** Records evaluated together, across keys. */
    public static int batchSize(Args a) {
        int n = a.integer("batch-size", 64);
        if (n < 1) {
            throw new UsageException("--batch-size must be at least 1, got " + n);
        }
        return n;
    }

    /** The longest a record waits for its batch to fill. */
    public static Duration batchDelay(Args a) {
        int ms = a.integer("batch-delay-ms", 50);
        if (ms < 0) {
            throw new UsageException("--batch-delay-ms must not be negative, got " + ms);
        }
        return Duration.ofMillis(ms);
    }
}
