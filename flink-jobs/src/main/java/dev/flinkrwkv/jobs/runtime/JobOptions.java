package dev.flinkrwkv.jobs.runtime;

import dev.flinkrwkv.jobs.format.RecordParser;

import java.nio.file.Path;

/**
 * Everything about running a job that is not the job's own computation: where records come from and go
 * (Kafka topics or files, and the dead letters), the broker (null: start the embedded one), how records are
 * parsed and keyed, and the cluster settings. Exactly one of each topic/path pair is set.
 *
 * @param feedFile          with a Kafka input: lines of this file are produced into the input topic before
 *                          the job starts (the demo's way to get data in); null for none
 * @param bounded           stop at the input topic's end as of the start (files always end)
 * @param printOutput       after a bounded run with Kafka output, print up to this many output records
 * @param brokerCheckMs     how long to wait for a given broker to answer before failing at start
 * @param existingOutput    what to do with output and dead-letter directories that already hold files
 */
public record JobOptions(String jobName, String bootstrapServers,
                         String inputTopic, Path inputFile,
                         String outputTopic, Path outputDir,
                         String deadLetterTopic, Path deadLetterDir,
                         Path feedFile, boolean bounded, String groupId, String transactionalIdPrefix,
                         int topicPartitions, RecordParser parser, JobSettings settings,
                         long progressIntervalMs, int printOutput, long brokerCheckMs, ExistingOutput existingOutput) {

    /** An output directory that already holds files: refuse to run ({@code REFUSE}), empty it, or add to it. */
    public enum ExistingOutput { REFUSE, OVERWRITE, APPEND }

    public boolean needsKafka() {
        return inputTopic != null || outputTopic != null || deadLetterTopic != null;
    }
}
