package dev.flinkrwkv.operator;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;

import java.io.IOException;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The operator tests' job: records {@code 0..count} from a data generator (parallelism 1, optionally
 * throttled per checkpoint, through a failure-injecting map), keyed by {@link TestRecords#key}, scored (or,
 * when the config generates, continued) by the RWKV operator at the given parallelism, written as lines by
 * a FileSink (exactly once: files commit on
 * checkpoints). RocksDB with incremental checkpoints; restarts from the last checkpoint on failure.
 */
final class TestJob {
    int keys = 1200;
    long count;
    int parallelism = 2;
    long checkpointMs = 100;
    int perCheckpoint;             // 0: no throttle
    int restarts = 5;
    String savepoint;              // restore from this, if set
    long[] failAt = new long[0];   // throw once at the first record >= each, after a completed checkpoint
    long pauseAt = -1;             // sleep before this record
    long pauseMs;
    RwkvOperatorConfig<Long> config;
    /**
     * Collect the lines in memory instead of the FileSink. For stop-with-savepoint runs, which are cut
     * cleanly: a restored FileSink would keep writing into the directory of the run it was restored from.
     */
    boolean collect;

    private static final Map<String, Queue<String>> COLLECTED = new ConcurrentHashMap<>();

    /** The job started last. */
    static volatile org.apache.flink.api.common.JobID lastJob;

    static final AtomicInteger FAILURES = new AtomicInteger();
    static final AtomicInteger CHECKPOINTS = new AtomicInteger();
    private static volatile boolean checkpointSinceStart;

    StreamExecutionEnvironment env(java.nio.file.Path dir) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.resolve("checkpoints").toUri().toString());
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, restarts);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(checkpointMs);
        return env;
    }

    /** Builds the job writing to {@code dir/out} and starts it. */
    JobClient start(java.nio.file.Path dir) throws Exception {
        FAILURES.set(0);
        CHECKPOINTS.set(0);
        StreamExecutionEnvironment env = env(dir);
        DataGeneratorSource<Long> source = perCheckpoint > 0
                ? new DataGeneratorSource<>(i -> i, count, RateLimiterStrategy.perCheckpoint(perCheckpoint), Types.LONG)
                : new DataGeneratorSource<>(i -> i, count, Types.LONG);
        int k = keys;
        KeyedStream<Long, String> keyed = env.fromSource(source, WatermarkStrategy.noWatermarks(), "records")
                .setParallelism(1)
                .map(new Disturb(failAt, pauseAt, pauseMs)).setParallelism(1)
                .keyBy(i -> TestRecords.key(i, k));
        DataStream<String> lines = (config.generate() != null ? RwkvStreams.generate(keyed, config)
                        : RwkvStreams.score(keyed, config))
                .uid("rwkv")
                .map(RwkvResult::toString);
        if (collect) {
            COLLECTED.put(dir.toString(), new ConcurrentLinkedQueue<>());
            lines.sinkTo(new CollectSink(dir.toString()));
        } else {
            lines.sinkTo(FileSink.forRowFormat(new Path(dir.resolve("out").toUri()), new SimpleStringEncoder<String>())
                            .withRollingPolicy(OnCheckpointRollingPolicy.build()).build())
                    .uid("sink");
        }
        JobClient client = env.executeAsync("rwkv operator test");
        lastJob = client.getJobID();
        return client;
    }

    /** Runs the job to its end; a failed job throws its error (in an ExecutionException). */
    List<String> run(java.nio.file.Path dir) throws Exception {
        JobClient client = start(dir);
        await(client, client.getJobExecutionResult(), "the job's end");
        return output(dir);
    }

    /**
     * How long a test waits for a job (to end, or to reach a point): far beyond what these small jobs
     * need, and within the tests' default timeout, so a stuck job is cancelled and named, never waited on.
     */
    static final Duration JOB_TIMEOUT = Duration.ofMinutes(4);

    /** {@code future}'s value, within {@link #JOB_TIMEOUT}; else the job is cancelled and the test fails. */
    static <T> T await(JobClient client, java.util.concurrent.CompletableFuture<T> future, String what) throws Exception {
        try {
            return future.get(JOB_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            client.cancel();
            throw new AssertionError("no " + what + " after " + JOB_TIMEOUT + " (job " + client.getJobID() + " cancelled)", e);
        }
    }

    /**
     * Waits until {@code reached} holds while the job runs. A job that ends first fails the test at once
     * with the job's own error (or as ended too early); one that takes longer than {@link #JOB_TIMEOUT} is
     * cancelled and fails it too.
     */
    static void awaitWhileRunning(JobClient client, java.util.function.BooleanSupplier reached, String what) throws Exception {
        java.util.concurrent.CompletableFuture<?> result = client.getJobExecutionResult();
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        while (!reached.getAsBoolean()) {
            if (result.isDone()) {
                try {
                    result.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    Throwable root = e;
                    while (root.getCause() != null) {
                        root = root.getCause();
                    }
                    throw new AssertionError("the job failed before " + what + ": " + root, e.getCause());
                }
                throw new AssertionError("the job ended before " + what);
            }
            if (System.nanoTime() > deadline) {
                client.cancel();
                throw new AssertionError("not " + what + " after " + JOB_TIMEOUT + " (job " + client.getJobID() + " cancelled)");
            }
            Thread.sleep(20);
        }
    }

    /** The committed lines (finished part files; in-progress and pending files are hidden). */
    static List<String> output(java.nio.file.Path dir) throws IOException {
        List<String> lines = new ArrayList<>();
        Queue<String> collected = COLLECTED.get(dir.toString());
        if (collected != null) {
            lines.addAll(collected);
            return lines;
        }
        java.nio.file.Path out = dir.resolve("out");
        if (!Files.exists(out)) {
            return lines;
        }
        try (Stream<java.nio.file.Path> files = Files.walk(out)) {
            for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) files::iterator) {
                if (Files.isRegularFile(f) && !f.getFileName().toString().startsWith(".")) {
                    lines.addAll(Files.readAllLines(f));
                }
            }
        }
        return lines;
    }

    /** Adds every line to {@link #COLLECTED} (at least once; enough for runs without failures). */
    static final class CollectSink implements Sink<String> {
        private final String run;

        CollectSink(String run) {
            this.run = run;
        }

        @Override
        public SinkWriter<String> createWriter(WriterInitContext context) {
            Queue<String> q = COLLECTED.get(run);
            return new SinkWriter<>() {
                @Override
                public void write(String line, Context ctx) {
                    q.add(line);
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }

    /** Injects failures (each once, after a checkpoint completed since the last (re)start) and a pause. */
    static final class Disturb extends RichMapFunction<Long, Long> implements CheckpointListener {
        private final long[] failAt;
        private final long pauseAt;
        private final long pauseMs;

        Disturb(long[] failAt, long pauseAt, long pauseMs) {
            this.failAt = failAt;
            this.pauseAt = pauseAt;
            this.pauseMs = pauseMs;
        }

        @Override
        public void open(OpenContext ctx) {
            checkpointSinceStart = false;
        }

        @Override
        public Long map(Long i) throws Exception {
            int done = FAILURES.get();
            if (done < failAt.length && i >= failAt[done] && checkpointSinceStart) {
                FAILURES.incrementAndGet();
                throw new RuntimeException("injected failure " + (done + 1) + " at record " + i);
            }
            if (i == pauseAt) {
                Thread.sleep(pauseMs);
            }
            return i;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            checkpointSinceStart = true;
            CHECKPOINTS.incrementAndGet();
        }
    }
}
