package dev.flinkrwkv.jobs.runtime;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Process-wide counters for the embedded cluster's live progress line only: records read, dead letters,
 * records written and tokens evaluated. The embedded cluster's operators run in this JVM and add to them
 * directly; on a real cluster they stay at zero in the client, so the progress line shows no counts there.
 * They include records replayed after a recovery. A job's totals come from its accumulators
 * ({@link JobCount}), exact in both cases.
 */
public final class JobProgress {
    public static final LongAdder RECORDS_IN = new LongAdder();
    public static final LongAdder DEAD_LETTERS = new LongAdder();
    public static final LongAdder RECORDS_OUT = new LongAdder();
    public static final LongAdder TOKENS = new LongAdder();

    private static final Set<String> ONCE = ConcurrentHashMap.newKeySet();

    private JobProgress() {}

    /** True the first time it is asked about {@code what} since the last {@link #reset()}: for warnings given once. */
    public static boolean firstTime(String what) {
        return ONCE.add(what);
    }

    public static void reset() {
        RECORDS_IN.reset();
        DEAD_LETTERS.reset();
        RECORDS_OUT.reset();
        TOKENS.reset();
        ONCE.clear();
    }
}
