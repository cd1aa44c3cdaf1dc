package dev.flinkrwkv.jobs.runtime;

import dev.flinkrwkv.jobs.format.RawRecord;
import dev.flinkrwkv.jobs.format.RecordParser;
import dev.flinkrwkv.jobs.io.CommittedFiles;
import dev.flinkrwkv.jobs.kafka.CommittedTail;
import dev.flinkrwkv.jobs.kafka.EmbeddedKafka;
import dev.flinkrwkv.jobs.kafka.KafkaConnectors;
import dev.flinkrwkv.jobs.kafka.KafkaTopics;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * The local harness around a job's {@link JobTopology}, the same for every job, in these steps:
 * <ol>
 *   <li>{@link #checkFiles}: input files readable, output directories usable (skipped under {@code flink run},
 *       where the task managers read the paths, which this client may not see).</li>
 *   <li>{@link #connectKafka}: with no bootstrap servers, starts the embedded broker and creates the topics;
 *       otherwise checks that the broker answers, failing at once with a clear message if not.</li>
 *   <li>{@link #feed}: optionally produces a file's lines into the input topic (the demo).</li>
 *   <li>{@link #environment}: the embedded cluster or, under {@code flink run}, the cluster's environment;
 *       the topology is added to it, and where everything is is printed.</li>
 *   <li>{@link #execute}: submits the job and, unless it was submitted detached ({@code flink run -d}), prints a
 *       progress line every few seconds until it ends (bounded input) or is stopped (Ctrl-C cancels the job and
 *       stops the broker); detached, prints the job's id and where to follow it instead.</li>
 *   <li>{@link #report}: the totals from the job's accumulators, and with {@code --print} its output.</li>
 * </ol>
 */
public final class JobLauncher {
    private JobLauncher() {}

    public static <T> void run(JobOptions o, Pipeline<T> pipeline, PrintStream out) throws IOException {
        run(o, pipeline, out, null);
    }

    /**
     * {@link #run(JobOptions, Pipeline, PrintStream)}, and each output record's value is handed to
     * {@code committedOutput} once it is committed (as a read_committed consumer of the topic sees it, or as
     * its part file becomes visible), while the job runs; null for none.
     */
    public static <T> void run(JobOptions o, Pipeline<T> pipeline, PrintStream out, Consumer<byte[]> committedOutput)
            throws IOException {
        boolean onCluster = JobEnvironment.underFlinkRun();
        if (!onCluster) {
            checkFiles(o);
        }
        try (Kafka kafka = connectKafka(o, onCluster, out)) {
            String bs = kafka.bootstrapServers();
            if (o.feedFile() != null) {
                feed(o, bs, out);
            }
            JobEnvironment je = environment(o, onCluster, out);
            JobTopology topology = JobTopology.of(o, bs);
            topology.describe().forEach(out::println);
            topology.addTo(je.env(), pipeline);
            JobExecutionResult result;
            try (Closeable tail = tailOutput(o, bs, committedOutput)) {
                result = execute(je.env(), onCluster, o, bs, out);
            }
            if (result != null) {  // null: detached, no result to wait for or report
                report(o, bs, result, out);
            }
        }
    }

    /** The broker the job uses: the embedded one, closed with this, or one given by address; none without topics. */
    private record Kafka(String bootstrapServers, EmbeddedKafka embedded) implements Closeable {
        @Override
        public void close() {
            if (embedded != null) {
                embedded.close();
            }
        }
    }

    private static Kafka connectKafka(JobOptions o, boolean onCluster, PrintStream out) {
        String bs = o.bootstrapServers();
        if (!o.needsKafka()) {
            return new Kafka(bs, null);
        }
        if (bs != null) {
            KafkaConnectors.checkReachable(bs, o.brokerCheckMs());
            return new Kafka(bs, null);
        }
        if (onCluster) {
            throw new IllegalArgumentException("--bootstrap-servers is required when the job runs on a cluster");
        }
        EmbeddedKafka embedded = EmbeddedKafka.start();
        try {
            out.println(embedded.describe());
            List<String> topics = new ArrayList<>();
            for (String t : new String[] {o.inputTopic(), o.outputTopic(), o.deadLetterTopic()}) {
                if (t != null) {
                    topics.add(t);
                }
            }
            embedded.createTopics(o.topicPartitions(), topics.toArray(new String[0]));
            return new Kafka(embedded.bootstrapServers(), embedded);
        } catch (RuntimeException e) {
            embedded.close();
            throw e;
        }
    }

    private static JobEnvironment environment(JobOptions o, boolean onCluster, PrintStream out) {
        JobEnvironment je = onCluster ? JobEnvironment.submitted(o.settings()) : JobEnvironment.embedded(o.settings());
        out.println(je.description());
        return je;
    }

    /** Hands each committed output record's value to {@code committedOutput} while open; nothing when it is null. */
    private static Closeable tailOutput(JobOptions o, String bs, Consumer<byte[]> committedOutput) {
        if (committedOutput == null) {
            return () -> { };
        }
        return o.outputTopic() != null ? CommittedTail.start(bs, o.outputTopic(), committedOutput)::close
                : CommittedFiles.start(o.outputDir(), committedOutput)::close;
    }

    /** The totals of the finished job, then, with {@code --print N} and a Kafka output, its first N output records. */
    private static void report(JobOptions o, String bs, JobExecutionResult result, PrintStream out) {
        out.println(doneLine(result));
        if (o.printOutput() > 0 && o.outputTopic() != null) {
            var records = KafkaTopics.readSettled(bs, o.outputTopic(), Duration.ofSeconds(60));
            out.println("output topic " + o.outputTopic() + " (read_committed), " + records.size() + " records:");
            for (int i = 0; i < Math.min(o.printOutput(), records.size()); i++) {
                out.println("  " + new String(records.get(i).value(), StandardCharsets.UTF_8));
            }
        }
    }

    /**
     * Fails with one line when a file the job would read is missing or unreadable, or an output directory is
     * a file: before anything starts, instead of a job that fails and restarts on it.
     */
    static void checkFiles(JobOptions o) throws IOException {
        if (o.inputFile() != null) {
            checkReadable("--input", o.inputFile());
        }
        if (o.feedFile() != null) {
            checkReadable("--feed", o.feedFile());
            if (Files.isDirectory(o.feedFile())) {
                throw new IOException("--feed " + o.feedFile() + " is a directory; give a file");
            }
        }
        for (java.nio.file.Path dir : new java.nio.file.Path[] {o.outputDir(), o.deadLetterDir()}) {
            if (dir != null && Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new IOException(dir + " is a file; the output goes to a directory");
            }
        }
        for (java.nio.file.Path dir : new java.nio.file.Path[] {o.outputDir(), o.deadLetterDir()}) {
            if (dir != null) {
                prepareOutputDir(dir, o.existingOutput());
            }
        }
    }

    /**
     * A rerun into a directory that already holds output would silently mix two runs' records: refused unless
     * {@code --append} (keep them) or {@code --overwrite} (delete the part files first; a directory with
     * other files in it is not ours to empty, and is refused).
     */
    private static void prepareOutputDir(java.nio.file.Path dir, JobOptions.ExistingOutput mode) throws IOException {
        if (!Files.isDirectory(dir) || mode == JobOptions.ExistingOutput.APPEND) {
            return;
        }
        List<java.nio.file.Path> entries;
        try (var list = Files.list(dir)) {
            entries = list.sorted().toList();
        }
        if (entries.isEmpty()) {
            return;
        }
        if (mode == JobOptions.ExistingOutput.REFUSE) {
            throw new IOException(dir + " already holds " + entries.size() + " file(s) from an earlier run; give --overwrite"
                    + " to replace them or --append to add to them");
        }
        for (java.nio.file.Path e : entries) {
            String name = e.getFileName().toString();
            if (!Files.isRegularFile(e) || !(name.startsWith("part-") || name.startsWith(".part-"))) {
                throw new IOException("--overwrite: " + dir + " holds " + name + ", which is not a part file of a job's"
                        + " output; give an empty or new directory");
            }
        }
        for (java.nio.file.Path e : entries) {
            Files.delete(e);
        }
    }

    private static void checkReadable(String option, java.nio.file.Path p) throws IOException {
        if (!Files.exists(p)) {
            throw new IOException(option + " " + p + " does not exist");
        }
        if (!Files.isReadable(p)) {
            throw new IOException(option + " " + p + " cannot be read (permissions)");
        }
        if (Files.isDirectory(p)) {
            try (var files = Files.list(p)) {
                if (files.noneMatch(Files::isRegularFile)) {
                    throw new IOException(option + " " + p + " is a directory without files to read");
                }
            }
        } else if (!Files.isRegularFile(p)) {
            throw new IOException(option + " " + p + " is not a regular file");
        }
    }

    /**
     * True when this client waits for the job's result: always on the embedded cluster; under {@code flink run}
     * unless it was given {@code -d} ({@code execution.attached: false}), when the client returns once the job
     * is submitted and the job runs on without it.
     */
    static boolean waitsForResult(boolean onCluster, ReadableConfig conf) {
        return !onCluster || conf.get(DeploymentOptions.ATTACHED);
    }

    /**
     * What a detached submission prints instead of counts it cannot know: the job's id and where to follow and
     * stop it (the cluster's web UI and REST API at the address this client submitted to, and the flink CLI).
     */
    static String detachedMessage(JobID id, ReadableConfig conf) {
        String rest = "http://" + conf.getOptional(RestOptions.ADDRESS).orElse("localhost") + ":" + conf.get(RestOptions.PORT);
        return "job " + id + " submitted detached; it runs on without this client. Follow it in the web UI at " + rest
                + "/#/job/running/" + id + "/overview or the REST API at " + rest + "/jobs/" + id
                + " (its totals: the accumulators " + JobCount.RECORDS_IN + ", " + JobCount.DEAD_LETTERS + ", " + JobCount.RECORDS_OUT
                + "), or with `flink list`;"
                + " stop it with `flink stop --savepointPath DIR " + id + "` or `flink cancel " + id + "`";
    }

    /**
     * The totals of a finished job, from its accumulators (see {@link JobCount}): right wherever its tasks ran,
     * and each record counted once even when the job recovered and replayed some.
     */
    static String doneLine(JobExecutionResult result) {
        return String.format("done: %,d records in, %,d dead letters, %,d out", JobCount.total(result, JobCount.RECORDS_IN),
                JobCount.total(result, JobCount.DEAD_LETTERS), JobCount.total(result, JobCount.RECORDS_OUT));
    }

    /** Runs the job: its result, or null when it was submitted detached and this client does not wait for it. */
    private static JobExecutionResult execute(StreamExecutionEnvironment env, boolean onCluster, JobOptions o, String bs, PrintStream out)
            throws IOException {
        JobClient client;
        try {
            client = env.executeAsync(o.jobName());
        } catch (Exception e) {
            throw new IOException("could not start the job: " + e.getMessage(), e);
        }
        if (!waitsForResult(onCluster, env.getConfiguration())) {
            out.println(detachedMessage(client.getJobID(), env.getConfiguration()));
            return null;
        }
        out.println("job " + client.getJobID() + " started");
        Thread cancelOnExit = new Thread(() -> client.cancel(), "flink-rwkv-cancel");
        Runtime.getRuntime().addShutdownHook(cancelOnExit);
        try (ProgressReporter progress = new ProgressReporter(out, o.progressIntervalMs(), client::getAccumulators,
                o.inputTopic() != null ? bs : null, o.inputTopic(), o.groupId()).start()) {
            return client.getJobExecutionResult().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            client.cancel();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IOException("the job failed: " + rootMessage(e), e);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(cancelOnExit);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running or has run.
            }
        }
    }

    private static void feed(JobOptions o, String bs, PrintStream out) throws IOException {
        if (o.inputTopic() == null) {
            throw new IllegalArgumentException("--feed needs a Kafka input topic");
        }
        byte[] bytes = Files.readAllBytes(o.feedFile());
        List<byte[]> lines = new ArrayList<>();
        for (int start = 0; start < bytes.length; ) {
            int nl = start;
            while (nl < bytes.length && bytes[nl] != '\n') {
                nl++;
            }
            lines.add(java.util.Arrays.copyOfRange(bytes, start, nl));
            start = nl + 1;
        }
        // Each line under its record key (as the job will parse it; none for a line the job rejects), so that
        // a key's lines land in one partition in file order and the job sees them in that order. A line longer
        // than a record may be goes as its start, with its real length in a header: the job makes it a TOO_LONG
        // dead letter, as it does for such a line of an --input file, instead of the whole feed failing.
        int maxValue = KafkaTopics.maxValueBytes(bs, o.inputTopic());
        int cut = (int) Math.min(maxValue, (long) o.parser().maxBytes() + 1);
        List<byte[]> keys = new ArrayList<>(lines.size());
        List<Long> lengths = new ArrayList<>(lines.size());
        int shortened = 0;
        for (int i = 0; i < lines.size(); i++) {
            byte[] line = lines.get(i);
            if (line.length > maxValue) {
                lines.set(i, java.util.Arrays.copyOf(line, cut));
                lengths.add((long) line.length);
                keys.add(null);
                shortened++;
                continue;
            }
            RecordParser.ParseResult r = o.parser().parse(new RawRecord(o.feedFile().toString(), -1, i + 1, line));
            keys.add(r.isOk() ? r.record().key.getBytes(StandardCharsets.UTF_8) : null);
            lengths.add(null);
        }
        KafkaTopics.produce(bs, o.inputTopic(), keys, lines, lengths);
        out.printf("fed %,d lines of %s into topic %s%s%n", lines.size(), o.feedFile(), o.inputTopic(), shortened == 0 ? ""
                : String.format(" (%,d longer than a record's %,d bytes: sent cut, to be dead letters)", shortened, maxValue));
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
