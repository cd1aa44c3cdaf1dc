package dev.flinkrwkv.jobs.bench;

import dev.flinkrwkv.operator.RwkvOperatorConfig;
import dev.flinkrwkv.operator.RwkvResult;
import dev.flinkrwkv.operator.RwkvStreams;
import dev.flinkrwkv.state.StatePrecision;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.checkpoint.TaskStateStats;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs the keyed operator on a local MiniCluster (one slot, RocksDB, incremental checkpoints) over a
 * bounded stream in which every one of {@code keys} keys gets {@code rounds} records of {@code tokens}
 * tokens, keys in round-robin order (so each batch holds distinct keys, and with more keys than fit the
 * residency bound every state comes from RocksDB and goes back to it). Measures tokens per second from the
 * first to the last result, and the checkpoints' sizes and durations. Unthrottled, a checkpoint's barrier
 * queues behind the backlog of records (aligned checkpoints), so its end-to-end time mostly says how long
 * the backlog took; the synchronous and asynchronous snapshot parts are its own cost. With a source rate
 * below the operator's capacity the end-to-end time is the checkpoint's real latency.
 */
public final class OperatorBench {
    /** What one run measured. */
    public static final class Result {
        public long tokens;
        public double seconds;
        public final List<AbstractCheckpointStats> checkpoints = new ArrayList<>();

        public double tokensPerSecond() {
            return tokens / seconds;
        }
    }

    private static final AtomicLong TOKENS = new AtomicLong();
    private static final AtomicLong FIRST = new AtomicLong();
    private static final AtomicLong LAST = new AtomicLong();

    private final String model;
    private final int batch;
    private final int evaluatorThreads;
    private final int tokens;
    private final long residentBytes;
    private final StatePrecision precision;
    private final Duration checkpointInterval;
    private final Path checkpointDir;
    private final double recordsPerSecond;

    /** @param recordsPerSecond source rate limit, 0 for none */
    public OperatorBench(String model, int batch, int evaluatorThreads, int tokens, long residentBytes,
                         StatePrecision precision, Duration checkpointInterval, Path checkpointDir, double recordsPerSecond) {
        this.recordsPerSecond = recordsPerSecond;
        this.model = model;
        this.batch = batch;
        this.evaluatorThreads = evaluatorThreads;
        this.tokens = tokens;
        this.residentBytes = residentBytes;
        this.precision = precision;
        this.checkpointInterval = checkpointInterval;
        this.checkpointDir = checkpointDir;
    }

    public Result run(int keys, int rounds) throws Exception {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir.toUri().toString());
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("512m"));
        conf.set(RestOptions.BIND_PORT, "0"); // a free port: other local clusters may hold 8081
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(conf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(1).build());
        cluster.start();
        try {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(1);
            env.enableCheckpointing(checkpointInterval.toMillis());
            int k = keys;
            int t = tokens;
            RwkvOperatorConfig<Long> cfg = RwkvOperatorConfig.<Long>builder().model(model)
                    .tokens(i -> recordTokens(i, t)).maxBatchSize(batch).evaluatorThreads(evaluatorThreads).maxResidentBytes(residentBytes)
                    .statePrecision(precision).build();
            long count = (long) keys * rounds;
            DataGeneratorSource<Long> source = recordsPerSecond > 0
                    ? new DataGeneratorSource<>(i -> i, count, RateLimiterStrategy.perSecond(recordsPerSecond), Types.LONG)
                    : new DataGeneratorSource<>(i -> i, count, Types.LONG);
            RwkvStreams.score(env.fromSource(source, WatermarkStrategy.noWatermarks(), "records").keyBy(i -> i % k), cfg)
                    .sinkTo(new CountingSink());
            TOKENS.set(0);
            FIRST.set(0);
            LAST.set(0);
            JobID id = cluster.submitJob(env.getStreamGraph()).get().getJobID();
            JobResult jr = cluster.requestJobResult(id).get();
            if (!jr.isSuccess()) {
                throw new IllegalStateException("benchmark job failed",
                        jr.getSerializedThrowable().map(s -> (Throwable) s).orElse(null));
            }
            Result r = new Result();
            r.tokens = TOKENS.get();
            r.seconds = (LAST.get() - FIRST.get()) / 1e9;
            for (AbstractCheckpointStats s : cluster.getArchivedExecutionGraph(id).get()
                    .getCheckpointStatsSnapshot().getHistory().getCheckpoints()) {
                if (s.getStatus() == CheckpointStatsStatus.COMPLETED) {
                    r.checkpoints.add(s);
                }
            }
            r.checkpoints.sort((a, b) -> Long.compare(a.getCheckpointId(), b.getCheckpointId()));
            return r;
        } finally {
            cluster.close();
        }
    }

    /** The longest synchronous and asynchronous snapshot parts of any task, in ms. */
    public static long[] syncAsyncMillis(AbstractCheckpointStats s) {
        long sync = 0;
        long async = 0;
        for (TaskStateStats t : s.getAllTaskStateStats()) {
            sync = Math.max(sync, t.getSummaryStats().getSyncCheckpointDurationStats().getMaximum());
            async = Math.max(async, t.getSummaryStats().getAsyncCheckpointDurationStats().getMaximum());
        }
        return new long[] {sync, async};
    }

    /** Byte tokens of record {@code i}: printable, varied. */
    static int[] recordTokens(long i, int n) {
        int[] out = new int[n];
        long h = i * 0x9E3779B97F4A7C15L;
        for (int j = 0; j < n; j++) {
            h ^= h >>> 29;
            h *= 0xBF58476D1CE4E5B9L;
            out[j] = 32 + (int) Long.remainderUnsigned(h, 95);
        }
        return out;
    }

    /** Counts result tokens and notes the time of the first and last result. */
    private static final class CountingSink implements Sink<RwkvResult> {
        @Override
        public SinkWriter<RwkvResult> createWriter(WriterInitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(RwkvResult r, Context ctx) {
                    long now = System.nanoTime();
                    FIRST.compareAndSet(0, now);
                    LAST.set(now);
                    TOKENS.addAndGet(r.getTokens());
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }
}
