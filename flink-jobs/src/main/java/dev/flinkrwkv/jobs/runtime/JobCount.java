package dev.flinkrwkv.jobs.runtime;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.FunctionInitializationContext;

import java.util.List;
import java.util.Map;

/**
 * One of a job's totals (records in, dead letters, records out) counted exactly once: a Flink accumulator, so
 * that the total reaches the client in the {@link JobExecutionResult} wherever the tasks ran, whose value is
 * also kept in operator state, so that after a recovery it continues from the checkpoint's count instead of
 * restarting at zero (a new attempt's accumulators start empty) or counting the replayed records twice. A
 * rescaled restore redistributes the subtasks' counts; their sum stays the total.
 *
 * <p>A function creates one in {@code initializeState}, {@link #add}s to it per record and calls
 * {@link #snapshot} from {@code snapshotState}.
 *
 * <p>The client reads them while the job runs through its {@code JobClient} ({@link ProgressReporter}), which
 * works the same against the embedded cluster and a real one's REST API, and at the end from the job's result.
 * {@link #TOKENS} is a plain accumulator (see {@link #tokens}).
 */
public final class JobCount {
    public static final String RECORDS_IN = "records-in";
    public static final String DEAD_LETTERS = "dead-letters";
    public static final String RECORDS_OUT = "records-out";
    public static final String TOKENS = "tokens";

    private final LongCounter counter = new LongCounter();
    private final ListState<Long> state;

    private JobCount(ListState<Long> state) {
        this.state = state;
    }

    /** The count {@code name} of this subtask, restored from the checkpoint if there is one, as an accumulator of {@code rc}. */
    public static JobCount restore(String name, FunctionInitializationContext ctx, RuntimeContext rc) throws Exception {
        ListState<Long> state = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<>("count-" + name, Types.LONG));
        JobCount c = new JobCount(state);
        if (ctx.isRestored()) {
            for (Long v : state.get()) {
                c.counter.add(v);
            }
        }
        rc.addAccumulator(name, c.counter);
        return c;
    }

    public void add(long n) {
        counter.add(n);
    }

    public void snapshot() throws Exception {
        state.update(List.of(counter.getLocalValuePrimitive()));
    }

    /**
     * The job's count of tokens the model evaluated, for the progress line's tokens per second: an accumulator
     * of {@code rc} that a job's step after the model adds each result's tokens to. Not kept in state: a rate
     * needs no exact total, and after a recovery it restarts from zero (the reporter shows no rate then).
     */
    public static LongCounter tokens(RuntimeContext rc) {
        return rc.getLongCounter(TOKENS);
    }

    /** The total {@code name} of a finished job, 0 when no record reached the function that counts it. */
    public static long total(JobExecutionResult result, String name) {
        return total(result.getAllAccumulatorResults(), name);
    }

    /** The count {@code name} in a job's accumulators (a running job's, from its client), 0 when none was counted yet. */
    public static long total(Map<String, Object> accumulators, String name) {
        Object v = accumulators.get(name);
        return v == null ? 0 : ((Number) v).longValue();
    }
}
