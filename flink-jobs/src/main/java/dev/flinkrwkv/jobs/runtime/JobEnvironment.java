package dev.flinkrwkv.jobs.runtime;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.time.Duration;

/**
 * Where a job runs: the {@link StreamExecutionEnvironment} with RocksDB keyed state, exactly-once
 * checkpoints and restarts set up the same way for every job.
 *
 * <ul>
 *   <li>{@link #embedded}: a MiniCluster inside this process (what the command line uses when no cluster
 *       is given): RocksDB, incremental checkpoints in a local directory, restarts with exponential backoff
 *       and no attempt limit,
 *       and the Flink web UI on a local port ({@link #description()} says where).</li>
 *   <li>{@link #submitted}: under {@code flink run}, the cluster's environment; the job asks for RocksDB
 *       and its checkpoint interval, and the cluster's configuration supplies checkpoint storage and, unless
 *       {@code --restart-strategy} is given, the restart strategy.</li>
 *   <li>{@link #forMain}: for a job's plain {@code main}: the cluster's when started by {@code flink run},
 *       else embedded.</li>
 * </ul>
 */
public final class JobEnvironment {
    static final Duration EMBEDDED_HEARTBEAT = Duration.ofSeconds(1);

    private final StreamExecutionEnvironment env;
    private final String description;

    private JobEnvironment(StreamExecutionEnvironment env, String description) {
        this.env = env;
        this.description = description;
    }

    public StreamExecutionEnvironment env() {
        return env;
    }

    /** One line to print at start: where the job runs, its web UI and its checkpoints. */
    public String description() {
        return description;
    }

    public static JobEnvironment embedded(JobSettings s) {
        Configuration conf = common(s, true);
        try {
            Files.createDirectories(s.checkpointDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the checkpoint directory " + s.checkpointDir() + ": " + e.getMessage(), e);
        }
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, s.checkpointDir().toAbsolutePath().toUri().toString());
        // The progress line reads the job's accumulators, which reach the JobManager with the TaskManagers'
        // heartbeats (every 10 s by default); in one process a heartbeat a second costs nothing.
        conf.set(HeartbeatManagerOptions.HEARTBEAT_INTERVAL, EMBEDDED_HEARTBEAT);
        int parallelism = s.parallelism() > 0 ? s.parallelism() : Runtime.getRuntime().availableProcessors();
        StreamExecutionEnvironment env;
        String ui;
        if (s.webUiPort() >= 0) {
            int port = s.webUiPort() > 0 ? s.webUiPort() : freePort(8081);
            conf.set(RestOptions.BIND_ADDRESS, "localhost");
            conf.set(RestOptions.ADDRESS, "localhost");
            conf.set(RestOptions.PORT, port);
            env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
            ui = "web UI at http://localhost:" + port;
        } else {
            env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
            ui = "no web UI";
        }
        env.setParallelism(parallelism);
        env.enableCheckpointing(s.checkpointInterval().toMillis());
        return new JobEnvironment(env, "embedded Flink cluster (MiniCluster, parallelism " + parallelism + ", RocksDB state), "
                + ui + ", checkpoints every " + s.checkpointInterval().toMillis() + " ms in " + s.checkpointDir().toAbsolutePath()
                + ", " + s.restartsOn(true).describe());
    }

    public static JobEnvironment submitted(JobSettings s) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(common(s, false));
        if (s.parallelism() > 0) {
            env.setParallelism(s.parallelism());
        }
        env.enableCheckpointing(s.checkpointInterval().toMillis());
        return new JobEnvironment(env, "Flink cluster (submitted), checkpoints every " + s.checkpointInterval().toMillis() + " ms, "
                + s.restartsOn(false).describe());
    }

    /** The cluster's environment under {@code flink run}; an embedded cluster when started any other way. */
    public static JobEnvironment forMain(JobSettings s) {
        return underFlinkRun() ? submitted(s) : embedded(s);
    }

    /** True when this process was started by {@code flink run} (its client installs a context environment). */
    public static boolean underFlinkRun() {
        return !(StreamExecutionEnvironment.getExecutionEnvironment() instanceof LocalStreamEnvironment);
    }

    /**
     * The configuration every job starts from. The restart strategy is set only where this program decides it:
     * on the embedded cluster, or when {@code --restart-strategy} was given; otherwise a cluster's own
     * {@code restart-strategy.*} settings apply (a strategy set by the job would silently override them).
     */
    static Configuration common(JobSettings s, boolean embedded) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        // Unaligned: a barrier overtakes the records queued in the network buffers instead of waiting behind
        // them. The model is slow per record, so with a backlog (a fed file, a lagging topic) aligned barriers
        // would wait for the whole backlog, and no output would be committed until it is through.
        conf.set(CheckpointingOptions.ENABLE_UNALIGNED, true);
        s.restartsOn(embedded).applyTo(conf);
        return conf;
    }

    /** {@code preferred} if it is free on loopback, else any free port. */
    static int freePort(int preferred) {
        try (ServerSocket socket = new ServerSocket(preferred, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException busy) {
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                return socket.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("no free local port for the web UI", e);
            }
        }
    }
}
