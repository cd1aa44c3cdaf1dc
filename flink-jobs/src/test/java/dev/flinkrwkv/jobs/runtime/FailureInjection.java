package dev.flinkrwkv.jobs.runtime;

import dev.flinkrwkv.jobs.format.ParsedRecord;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.util.function.SerializableFunction;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * For the jobs' exactly-once tests: wraps a {@link Pipeline} so that its records are slowed down right
 * after parsing (so checkpoints complete while records still flow: with aligned checkpoints a barrier
 * queues behind buffered records) and its output throws once, after a checkpoint has completed. Then the
 * job restarts from that checkpoint, and its read_committed output must equal a failure-free run's.
 */
public final class FailureInjection {
    /** Whether the failure happened (tests assert it did, so that a run that never failed cannot pass). */
    public static final AtomicBoolean FAILED = new AtomicBoolean();
    static volatile boolean checkpointed;

    private FailureInjection() {}

    public static void reset() {
        FAILED.set(false);
        checkpointed = false;
    }

    /** {@code inner} with a pause of {@code throttleMs} per parsed record and one failure after a checkpoint. */
    public static <T> Pipeline<T> failingOnce(Pipeline<T> inner, long throttleMs) {
        return new Pipeline<>() {
            @Override
            public DataStream<T> build(DataStream<ParsedRecord> parsed) {
                DataStream<ParsedRecord> slow = parsed.map(new Throttle(throttleMs)).name("throttle");
                DataStream<T> out = inner.build(slow);
                return out.map(new FailOnce<T>()).returns(out.getType()).name("inject-failure");
            }

            @Override
            public SerializableFunction<T, byte[]> outputKey() {
                return inner.outputKey();
            }

            @Override
            public SerializableFunction<T, byte[]> outputValue() {
                return inner.outputValue();
            }
        };
    }

    private static final class Throttle implements MapFunction<ParsedRecord, ParsedRecord> {
        private final long ms;

        Throttle(long ms) {
            this.ms = ms;
        }

        @Override
        public ParsedRecord map(ParsedRecord r) throws InterruptedException {
            Thread.sleep(ms);
            return r;
        }
    }

    private static final class FailOnce<T> implements MapFunction<T, T>, CheckpointListener {
        @Override
        public T map(T value) {
            if (checkpointed && !FAILED.getAndSet(true)) {
                throw new RuntimeException("injected failure");
            }
            return value;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            checkpointed = true;
        }
    }
}
