package dev.flinkrwkv.jobs.runtime;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How a job runs, independent of what it computes: checkpointing, restarts, parallelism, and for the
 * embedded cluster where checkpoints go and which port the web UI takes.
 *
 * @param checkpointInterval how often a checkpoint is taken; the exactly-once sinks make output visible
 *                           at checkpoints, so this is also the output's latency
 * @param checkpointDir      the embedded cluster's checkpoint directory (a cluster's own setting wins
 *                           under {@code flink run})
 * @param webUiPort          the embedded web UI's port: 0 for a free one (8081 if free), -1 for no UI
 * @param parallelism        0 for the number of cores
 * @param restartAttempts    restarts after a failure before the job gives up (fixed delay of one second)
 */
public record JobSettings(Duration checkpointInterval, Path checkpointDir, int webUiPort, int parallelism,
                          int restartAttempts, Duration restartDelay) {
    public static JobSettings defaults(Path checkpointDir) {
        return new JobSettings(Duration.ofSeconds(5), checkpointDir, 0, 0, 10, Duration.ofSeconds(1));
    }

    public JobSettings withCheckpointInterval(Duration d) {
        return new JobSettings(d, checkpointDir, webUiPort, parallelism, restartAttempts, restartDelay);
    }

    public JobSettings withWebUiPort(int port) {
        return new JobSettings(checkpointInterval, checkpointDir, port, parallelism, restartAttempts, restartDelay);
    }

    public JobSettings withParallelism(int p) {
        return new JobSettings(checkpointInterval, checkpointDir, webUiPort, p, restartAttempts, restartDelay);
    }

    public JobSettings withRestarts(int attempts, Duration delay) {
        return new JobSettings(checkpointInterval, checkpointDir, webUiPort, parallelism, attempts, delay);
    }
}
