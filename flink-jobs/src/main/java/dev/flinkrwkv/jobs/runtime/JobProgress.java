package dev.flinkrwkv.jobs.runtime;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Process-wide counters that the console progress line reads: records read, dead letters, records
 * written and tokens evaluated. On the embedded cluster the operators run in this JVM and add to them
 * directly; on a real cluster they stay at zero here and the job's Flink metrics (web UI) tell the same.
 * Counts include records replayed after a recovery.
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
