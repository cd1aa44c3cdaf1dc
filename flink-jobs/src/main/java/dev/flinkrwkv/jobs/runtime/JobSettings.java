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
 * @param restarts           what follows a failure; null for the default: on the embedded cluster
 *                           {@link RestartStrategy#EMBEDDED_DEFAULT}, under {@code flink run} the cluster's
 *                           configuration ({@link RestartStrategy#CLUSTER})
 */
public record JobSettings(Duration checkpointInterval, Path checkpointDir, int webUiPort, int parallelism,
                          RestartStrategy restarts) {
    public static JobSettings defaults(Path checkpointDir) {
        return new JobSettings(Duration.ofSeconds(5), checkpointDir, 0, 0, null);
    }

    /** The restart strategy in effect on the embedded cluster ({@code embedded}) or a real one. */
    public RestartStrategy restartsOn(boolean embedded) {
        return restarts != null ? restarts : embedded ? RestartStrategy.EMBEDDED_DEFAULT : RestartStrategy.CLUSTER;
    }

    public JobSettings withCheckpointInterval(Duration d) {
        return new JobSettings(d, checkpointDir, webUiPort, parallelism, restarts);
    }

    public JobSettings withWebUiPort(int port) {
        return new JobSettings(checkpointInterval, checkpointDir, port, parallelism, restarts);
    }

    public JobSettings withParallelism(int p) {
        return new JobSettings(checkpointInterval, checkpointDir, webUiPort, p, restarts);
    }

    public JobSettings withRestarts(RestartStrategy r) {
        return new JobSettings(checkpointInterval, checkpointDir, webUiPort, parallelism, r);
    }
}
