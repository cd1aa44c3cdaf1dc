package dev.flinkrwkv.jobs.bench;

import dev.flinkrwkv.backend.Device;
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
 * bounded stream of records of {@code tokens} tokens whose keys follow a {@link KeyDistribution}: round-robin
 * over many keys (so each batch holds distinct keys, and with more keys than fit the residency bound every
 * state comes from RocksDB and goes back to it), or one key, uniform or Zipf-distributed keys. Measures
 * tokens per second from the source's first record to the last result (so the first batch's evaluation
 * counts, however few batches a run has), and the checkpoints' sizes and durations. Unthrottled, a checkpoint's barrier
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
    private final int maxBatchTokens;
    private final int tokens;
    private final long residentBytes;
    private final StatePrecision precision;
    private final Duration checkpointInterval;
    private final Path checkpointDir;
    private final double recordsPerSecond;
    private Device device = Device.AUTO;

    /** @param recordsPerSecond source rate limit, 0 for none */
    public OperatorBench(String model, int batch, int evaluatorThreads, int maxBatchTokens, int tokens, long residentBytes,
                         StatePrecision precision, Duration checkpointInterval, Path checkpointDir, double recordsPerSecond) {
        this.maxBatchTokens = maxBatchTokens;
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

    /** Where the operator evaluates (default {@link Device#AUTO}). */
    public OperatorBench onDevice(Device d) {
        this.device = java.util.Objects.requireNonNull(d, "device");
        return this;
    }

    /**
     * How the benchmark's records are spread over keys: all on one key, uniformly over {@code keys} keys,
     * Zipf-distributed over them (key k, from 0, with weight {@code 1 / (k+1)^s}: a few keys hold most
     * records, as real key distributions do), or round-robin (each key in turn). A pure function of the
     * record's number, so the stream is the same in every run.
     */
    public static final class KeyDistribution implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        private final String name;
        private final int keys;
        private final double[] cumulative; // Zipf only: cumulative weights, the last 1

        private KeyDistribution(String name, int keys, double[] cumulative) {
            this.name = name;
            this.keys = keys;
            this.cumulative = cumulative;
        }

        /** {@code single}, {@code uniform}, {@code zipf:S} (S > 0) or {@code round-robin}, over {@code keys} keys. */
        public static KeyDistribution parse(String spec, int keys) {
            if (keys < 1) {
                throw new IllegalArgumentException("key count " + keys + " must be at least 1");
            }
            String s = spec.trim();
            switch (s) {
                case "single": return new KeyDistribution(s, 1, null);
                case "uniform": return new KeyDistribution(s, keys, null);
                case "round-robin": return new KeyDistribution(s, keys, null);
                default:
            }
            if (s.startsWith("zipf:")) {
                double e;
                try {
                    e = Double.parseDouble(s.substring(5));
                } catch (NumberFormatException x) {
                    e = Double.NaN;
                }
                if (!(e > 0) || Double.isInfinite(e)) {
                    throw new IllegalArgumentException("zipf exponent in '" + s + "' must be a number > 0");
                }
                double[] c = new double[keys];
                double sum = 0;
                for (int k = 0; k < keys; k++) {
                    sum += 1 / Math.pow(k + 1, e);
                    c[k] = sum;
                }
                for (int k = 0; k < keys; k++) {
                    c[k] /= sum;
                }
                c[keys - 1] = 1;
                return new KeyDistribution(s, keys, c);
            }
            throw new IllegalArgumentException("key distribution '" + s + "': single, uniform, zipf:S or round-robin");
        }

        public String name() {
            return name;
        }

        public int keys() {
            return keys;
        }

        /** The key of record {@code i}. */
        public long key(long i) {
            if (name.equals("round-robin")) {
                return i % keys;
            }
            if (keys == 1) {
                return 0;
            }
            long h = mix(i + 0x632BE59BD9B4E019L);
            double u = (h >>> 11) * 0x1.0p-53;
            if (cumulative == null) {
                return (long) (u * keys);
            }
            int lo = 0, hi = keys - 1; // the first k with cumulative[k] > u
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (cumulative[mid] > u) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            return lo;
        }

        private static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }
    }

    /** {@code keys} keys in round-robin order, {@code rounds} records each. */
    public Result run(int keys, int rounds) throws Exception {
        return run(KeyDistribution.parse("round-robin", keys), (long) keys * rounds);
    }

    /** {@code records} records, keys from {@code keys}. */
    public Result run(KeyDistribution keys, long records) throws Exception {
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
            KeyDistribution k = keys;
            int t = tokens;
            RwkvOperatorConfig<Long> cfg = RwkvOperatorConfig.<Long>builder().model(model)
                    .tokens(i -> recordTokens(i, t)).maxBatchSize(batch).evaluatorThreads(evaluatorThreads)
                    .maxBatchTokens(maxBatchTokens).maxResidentBytes(residentBytes).statePrecision(precision)
                    .device(device).build();
            long count = records;
            DataGeneratorSource<Long> source = recordsPerSecond > 0
                    ? new DataGeneratorSource<>(OperatorBench::record, count, RateLimiterStrategy.perSecond(recordsPerSecond), Types.LONG)
                    : new DataGeneratorSource<>(OperatorBench::record, count, Types.LONG);
            RwkvStreams.score(env.fromSource(source, WatermarkStrategy.noWatermarks(), "records").keyBy(k::key), cfg)
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

    /** Record {@code i} of the source; the first one starts the clock (the job runs in this JVM). */
    private static Long record(Long i) {
        FIRST.compareAndSet(0, System.nanoTime());
        return i;
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

    /** Counts result tokens and notes the time of the last result. */
    private static final class CountingSink implements Sink<RwkvResult> {
        @Override
        public SinkWriter<RwkvResult> createWriter(WriterInitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(RwkvResult r, Context ctx) {
                    long now = System.nanoTime();
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
