package dev.flinkrwkv.jobs.cli;

import dev.flinkrwkv.jobs.format.RecordParser;
import dev.flinkrwkv.jobs.runtime.JobOptions;
import dev.flinkrwkv.jobs.runtime.JobSettings;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.regex.PatternSyntaxException;

/**
 * The options every job command shares (input, output, dead letters, Kafka, parsing, cluster), parsed into
 * {@link JobOptions}. Defaults make a job runnable with nothing but its own options: Kafka topics
 * {@code JOB-input}, {@code JOB-output}, {@code JOB-dead-letters} on the embedded broker, the embedded
 * cluster with its web UI, checkpoints under {@code ./flink-rwkv-checkpoints/JOB}.
 *
 * <p>Input is the file {@code --input} or else a topic. Output is the directory {@code --output-dir} or
 * else a topic. Dead letters go to {@code --dead-letter-dir} or {@code --dead-letter-topic}; by default to
 * a topic when Kafka is used anyway, else to the directory {@code OUTPUT-DIR-dead-letters}.
 */
public final class JobArgs {
    /** The shared part of each job command's usage line. */
    public static final String USAGE = "[--input FILE | --input-topic T] [--output-dir DIR | --output-topic T]"
            + " [--dead-letter-dir DIR | --dead-letter-topic T] [--bootstrap-servers HOST:PORT] [--feed FILE] [--bounded]"
            + " [--text-field F] [--key-field F | --key-pattern REGEX] [--default-key K] [--max-bytes "
            + RecordParser.DEFAULT_MAX_BYTES + "]"
            + " [--checkpoint-interval-ms 5000] [--checkpoint-dir DIR] [--web-ui-port PORT|-1] [--parallelism N]"
            + " [--partitions 2] [--group-id G] [--transactional-id-prefix P] [--print N] [--progress-interval-ms 5000]"
            + " [--broker-check-ms 10000] [--overwrite | --append]";

    private JobArgs() {}

    public static JobOptions parse(String job, Args a) {
        Path inputFile = a.has("input") ? a.path("input") : null;
        String inputTopic = inputFile == null ? a.string("input-topic", job + "-input") : null;
        if (inputFile != null && a.has("input-topic")) {
            throw new UsageException("give --input or --input-topic, not both");
        }
        Path outputDir = a.has("output-dir") ? a.path("output-dir") : null;
        String outputTopic = outputDir == null ? a.string("output-topic", job + "-output") : null;
        if (outputDir != null && a.has("output-topic")) {
            throw new UsageException("give --output-dir or --output-topic, not both");
        }
        Path deadLetterDir = null;
        String deadLetterTopic = null;
        if (a.has("dead-letter-dir")) {
            deadLetterDir = a.path("dead-letter-dir");
        } else if (a.has("dead-letter-topic") || inputTopic != null || outputTopic != null || a.has("bootstrap-servers")) {
            deadLetterTopic = a.string("dead-letter-topic", job + "-dead-letters");
        } else {
            deadLetterDir = Paths.get(outputDir.toString() + "-dead-letters");
        }
        if (a.has("feed") && inputTopic == null) {
            throw new UsageException("--feed writes a file into the input topic; with --input FILE the job reads the file itself");
        }
        int interval = a.integer("checkpoint-interval-ms", 5000);
        if (interval < 10) {
            throw new UsageException("--checkpoint-interval-ms must be at least 10, got " + interval);
        }
        JobSettings settings = JobSettings.defaults(a.has("checkpoint-dir") ? a.path("checkpoint-dir")
                        : Paths.get("flink-rwkv-checkpoints", job))
                .withCheckpointInterval(Duration.ofMillis(interval))
                .withWebUiPort(a.integer("web-ui-port", 0))
                .withParallelism(a.integer("parallelism", 0));
        return new JobOptions(job, a.string("bootstrap-servers", null), inputTopic, inputFile, outputTopic, outputDir,
                deadLetterTopic, deadLetterDir, a.has("feed") ? a.path("feed") : null, a.flag("bounded"),
                a.string("group-id", "flink-rwkv-" + job), a.string("transactional-id-prefix", "flink-rwkv-" + job),
                a.integer("partitions", 2), parser(a), settings, a.longValue("progress-interval-ms", 5000),
                a.integer("print", 0), a.longValue("broker-check-ms", 10_000), existingOutput(a, outputDir, deadLetterDir));
    }

    private static JobOptions.ExistingOutput existingOutput(Args a, Path outputDir, Path deadLetterDir) {
        if (a.flag("overwrite") && a.flag("append")) {
            throw new UsageException("give --overwrite or --append, not both");
        }
        if ((a.flag("overwrite") || a.flag("append")) && outputDir == null && deadLetterDir == null) {
            throw new UsageException("--overwrite and --append are for --output-dir and --dead-letter-dir; a topic is always added to");
        }
        return a.flag("overwrite") ? JobOptions.ExistingOutput.OVERWRITE
                : a.flag("append") ? JobOptions.ExistingOutput.APPEND : JobOptions.ExistingOutput.REFUSE;
    }

    /** {@code --text-field} makes the input JSON; keys by {@code --key-field} or {@code --key-pattern}. */
    static RecordParser parser(Args a) {
        RecordParser p = a.has("text-field") ? RecordParser.json(a.string("text-field")) : RecordParser.lines();
        if (a.has("key-field") && a.has("key-pattern")) {
            throw new UsageException("give --key-field or --key-pattern, not both");
        }
        if (a.has("key-field")) {
            if (!p.isJson()) {
                throw new UsageException("--key-field needs JSON input (--text-field); for plain lines use --key-pattern");
            }
            p.keyByField(a.string("key-field"));
        }
        if (a.has("key-pattern")) {
            try {
                p.keyByPattern(a.string("key-pattern"));
            } catch (PatternSyntaxException e) {
                throw new UsageException("--key-pattern is not a valid regular expression: " + e.getDescription());
            }
        }
        if (a.has("default-key")) {
            p.defaultKey(a.string("default-key"));
        }
        try {
            p.maxBytes(a.integer("max-bytes", RecordParser.DEFAULT_MAX_BYTES));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        return p;
    }
}
