package dev.flinkrwkv.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flinkrwkv.jobs.Shared;
import dev.flinkrwkv.jobs.kafka.KafkaTopics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * score-logs on a real Flink standalone session cluster: a JobManager and two TaskManagers in their own JVMs
 * ({@link FlinkStandaloneCluster}), a Kafka broker in its own JVM ({@link KafkaBrokerProcess}), the job jar
 * ({@link JobJar}) submitted with Flink's command line client. A failure-free run is the reference; each
 * scenario's {@code read_committed} output must equal it record for record per key: no line twice, none
 * missing, every score the same.
 *
 * <ol>
 *   <li>A TaskManager running the job is killed with SIGKILL mid-stream and a new one started; the job
 *       restarts (the cluster's restart strategy, stock heartbeats) and finishes.</li>
 *   <li>The broker is killed with SIGKILL mid-stream and restarted on its data.</li>
 *   <li>The job is stopped with a savepoint mid-stream at parallelism 2 and resumed from it at 1, and
 *       (again from the same savepoint) at 3.</li>
 * </ol>
 *
 * The table of what was checked is printed at the end and written to
 * {@code target/cluster-test/RUN/scenarios.md}; the processes' logs are beside it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class StandaloneClusterTest {
    /** Input lines; 8 keys (hosts). Small enough for a 2-core CI machine, long enough to fail mid-stream. */
    static final int LINES = 1200;
    static final String INPUT = "logs";
    static final Duration RUN_LIMIT = Duration.ofMinutes(4);

    private Path work;
    private ChildProcesses processes;
    private KafkaBrokerProcess broker;
    private FlinkStandaloneCluster flink;
    private Path jar;
    private Path model;
    private KeyedOutput reference;
    private final List<String> table = new ArrayList<>();
    private long startedNanos;

    @BeforeAll
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void startClusterAndRunReference() throws Exception {
        startedNanos = System.nanoTime();
        work = Files.createDirectories(Path.of("target", "cluster-test",
                LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")))).toAbsolutePath();
        processes = new ChildProcesses();
        try {
            broker = new KafkaBrokerProcess(processes, work.resolve("kafka"));
            broker.start();
            broker.createTopics(2, INPUT);
            produce(INPUT, 0, LINES);
            jar = JobJar.build(work.resolve("score-logs-job.jar"));
            model = Files.copy(Shared.tinyModel("tiny-rwkv-4v0-660K-FP32.bin"), work.resolve("model.bin"));
            flink = new FlinkStandaloneCluster(processes, work.resolve("flink"), JobJar.entries());
            flink.start(2);

            String job = submit("reference", "reference", 2, null);
            awaitOutput(LINES, "reference");
            long checkpoints = completedCheckpoints(job);
            flink.cancel(job);
            reference = read("reference");
            assertEquals(LINES, reference.records, "the failure-free run scores every line once");
            row("failure-free, parallelism 2 (reference)", reference, reference.against(reference), checkpoints, "-", 0);
        } catch (Throwable t) {
            stop();
            throw t;
        }
    }

    @AfterAll
    void stop() {
        try {
            if (processes != null) {
                processes.close();
            }
        } finally {
            processes = null;
            if (!table.isEmpty()) {
                String text = String.join("\n", header()) + "\n" + String.join("\n", table) + "\n\n"
                        + String.format(Locale.ROOT, "%d input lines; wall time %.0f s from the broker's start to the last scenario's end%n", LINES,
                        (System.nanoTime() - startedNanos) / 1e9);
                System.out.println(text);
                try {
                    Files.writeString(work.resolve("scenarios.md"), text);
                } catch (java.io.IOException ignored) {
                    // printed above
                }
            }
        }
    }

    /** A log line of one of 8 hosts; deterministic, so every run reads the same input. */
    static String line(int i) {
        int host = (i * 7 + i / 13) % 8;
        String[] op = {"GET /api/items", "POST /api/orders", "GET /health", "PUT /api/users"};
        return String.format(Locale.ROOT, "host-%d %s/%d status=%d ms=%d", host, op[(i * 5 + host) % 4], i % 97,
                i % 31 == 0 ? 500 : 200, 3 + (i * 37) % 250);
    }

    /**
     * Writes lines {@code from} to {@code to} (exclusive) into {@code topic}, keyed by host, as a log shipper
     * partitions by source: a key's lines are then in one partition, in order, so every run scores a key's
     * lines in the same order and must give the same scores; and a line has the same partition and offset in
     * every topic fed in the same order.
     */
    private void produce(String topic, int from, int to) {
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> lines = new ArrayList<>();
        for (int i = from; i < to; i++) {
            String line = line(i);
            keys.add(line.substring(0, line.indexOf(' ')).getBytes(StandardCharsets.UTF_8));
            lines.add(line.getBytes(StandardCharsets.UTF_8));
        }
        KafkaTopics.produce(broker.bootstrapServers(), topic, keys, lines);
    }

    private String submit(String name, String topic, int parallelism, String savepoint) throws Exception {
        return submit(name, INPUT, topic, parallelism, savepoint);
    }

    /**
     * {@code flink run -d} of score-logs on the cluster: reads {@code input} from the start, writes
     * {@code topic}-output; {@code name} is its consumer group and transactional id prefix.
     */
    private String submit(String name, String input, String topic, int parallelism, String savepoint) throws Exception {
        broker.createTopics(2, topic + "-output", topic + "-dead-letters");
        List<String> args = new ArrayList<>(List.of("run", "-d", "-p", String.valueOf(parallelism)));
        if (savepoint != null) {
            args.addAll(List.of("-s", savepoint));
        }
        args.addAll(List.of("-c", "dev.flinkrwkv.jobs.scorelogs.ScoreLogsJob", jar.toString(),
                "--model", model.toString(), "--bootstrap-servers", broker.bootstrapServers(),
                "--input-topic", input, "--output-topic", topic + "-output", "--dead-letter-topic", topic + "-dead-letters",
                "--group-id", name, "--transactional-id-prefix", name, "--key-pattern", "^(\\S+)",
                "--checkpoint-interval-ms", "1000"));
        String id = FlinkStandaloneCluster.submittedJobId(flink.flink(180, args.toArray(new String[0])));
        FlinkStandaloneCluster.await(Duration.ofMinutes(2), "job " + id + " running", () -> "RUNNING".equals(flink.jobState(id)));
        return id;
    }

    /** Committed output records of the topics' {@code -output} topics together. */
    private int committed(String... topics) {
        int n = 0;
        for (String t : topics) {
            n += KafkaTopics.readCommitted(broker.bootstrapServers(), t + "-output", Duration.ofSeconds(20)).size();
        }
        return n;
    }

    private void awaitOutput(int records, String... topics) throws InterruptedException {
        FlinkStandaloneCluster.await(RUN_LIMIT, records + " committed records in " + String.join(", ", topics),
                () -> committed(topics) >= records);
    }

    private KeyedOutput read(String... topics) {
        KeyedOutput o = new KeyedOutput();
        for (String t : topics) {
            List<ConsumerRecord<byte[], byte[]>> r = KafkaTopics.readCommitted(broker.bootstrapServers(), t + "-output",
                    Duration.ofSeconds(60));
            o.add(r);
        }
        return o;
    }

    private long completedCheckpoints(String job) {
        JsonNode c = flink.checkpoints(job);
        return c == null ? -1 : c.path("counts").path("completed").asLong(-1);
    }

    /** The time the job last restored its state (epoch ms), 0 if it never did. */
    private long lastRestore(String job) {
        JsonNode c = flink.checkpoints(job);
        return c == null ? 0 : c.path("latest").path("restored").path("restore_timestamp").asLong(0);
    }

    private void assertSame(KeyedOutput.Difference d, String scenario) {
        assertEquals(new KeyedOutput.Difference(0, 0, 0, 0, true), d,
                scenario + ": the committed output differs from the failure-free run's");
    }

    private static List<String> header() {
        return List.of("| scenario | records in | records out | duplicates | missing | changed | checkpoints | restarts | restore time |",
                "|---|---|---|---|---|---|---|---|---|");
    }

    private void row(String scenario, KeyedOutput out, KeyedOutput.Difference d, long checkpoints, String restore, long restarts) {
        table.add(String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %d | %d | %d | %s |", scenario, LINES, out.records,
                d.duplicates(), d.missing() + d.unexpected(), d.changed(), checkpoints, restarts, restore));
    }

    @Test
    @Order(1)
    void reference() {
        assertEquals(LINES, reference.records);
    }

    /**
     * A TaskManager running the job is killed with SIGKILL once a quarter of the output is committed, and a
     * new one is started. With the stock heartbeats (10 s interval, 50 s timeout) and the cluster's
     * exponential-delay restarts the job restores its last checkpoint and finishes: RUNNING, never FAILED.
     */
    @Test
    @Order(2)
    void taskManagerKilledMidStream() throws Exception {
        String job = submit("tm-kill", "tm-kill", 2, null);
        awaitOutput(LINES / 4, "tm-kill");
        FlinkStandaloneCluster.await(Duration.ofMinutes(1), "a completed checkpoint", () -> completedCheckpoints(job) > 0);
        List<String> running = flink.taskManagersOf(job);
        assertTrue(!running.isEmpty(), "no TaskManager runs the job");
        int before = committed("tm-kill");
        long killedAt = System.currentTimeMillis();
        flink.killTaskManager(running.get(0));
        flink.startTaskManager();
        long[] restoredAt = {0};
        FlinkStandaloneCluster.await(Duration.ofMinutes(3), "job " + job + " restored after the kill", () -> {
            restoredAt[0] = lastRestore(job);
            return restoredAt[0] >= killedAt;
        });
        awaitOutput(LINES, "tm-kill");
        assertTrue(before < LINES, "the TaskManager was killed after the job had finished");
        assertEquals("RUNNING", flink.jobState(job), "the job after losing a TaskManager");
        long checkpoints = completedCheckpoints(job);
        long restarts = flink.restarts(job);
        flink.cancel(job);
        KeyedOutput out = read("tm-kill");
        KeyedOutput.Difference d = out.against(reference);
        row("TaskManager SIGKILL at " + before + " records out, new TaskManager", out, d, checkpoints,
                String.format(Locale.ROOT, "%.1f s", (restoredAt[0] - killedAt) / 1000.0), restarts);
        assertSame(d, "TaskManager killed");
    }

    /**
     * The broker is killed with SIGKILL once a quarter of the output is committed and started again on its
     * data after 5 s. The job's Kafka source, sink and open transactions all lose their broker; the job
     * restarts or rides it out, and its committed output is still exactly the reference.
     */
    @Test
    @Order(3)
    void brokerKilledAndRestarted() throws Exception {
        String job = submit("broker-restart", "broker-restart", 2, null);
        awaitOutput(LINES / 4, "broker-restart");
        FlinkStandaloneCluster.await(Duration.ofMinutes(1), "a completed checkpoint", () -> completedCheckpoints(job) > 0);
        int before = committed("broker-restart");
        long killedAt = System.currentTimeMillis();
        broker.kill();
        // away long enough for the job's clients to fail requests and the next checkpoints to fail
        Thread.sleep(5_000);
        broker.start();
        long backAt = System.currentTimeMillis();
        awaitOutput(LINES, "broker-restart");
        assertTrue(before < LINES, "the broker was killed after the job had finished");
        assertEquals("RUNNING", flink.jobState(job), "the job after the broker's restart");
        long checkpoints = completedCheckpoints(job);
        long restarts = flink.restarts(job);
        long restoredAt = lastRestore(job);
        flink.cancel(job);
        KeyedOutput out = read("broker-restart");
        KeyedOutput.Difference d = out.against(reference);
        row("broker SIGKILL at " + before + " records out, restarted 5 s later", out, d, checkpoints,
                restoredAt >= killedAt ? String.format(Locale.ROOT, "%.1f s after the broker was back", (restoredAt - backAt) / 1000.0)
                        : "no restore needed", restarts);
        assertSame(d, "broker killed");
    }

    /**
     * Stop with a savepoint at parallelism 2 mid-stream, then {@code flink run -s SAVEPOINT} at parallelism 1,
     * and again from the same savepoint at 3, each into its own topic: the stopped job's output followed by
     * the resumed job's equals the reference per key. The input is fed in two halves, the second after the
     * stop: a savepoint's barrier waits behind every record already in the network buffers (savepoints are
     * aligned), and a small input would be in them entirely, so the stop would come only at its end.
     */
    @Test
    @Order(4)
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void stopWithSavepointThenResumeAtOtherParallelism() throws Exception {
        String input = "logs-savepoint";
        broker.createTopics(2, input);
        produce(input, 0, LINES / 2);
        String job = submit("savepoint", input, "savepoint", 2, null);
        awaitOutput(LINES / 10, "savepoint");
        String savepoint = flink.stopWithSavepoint(job);
        FlinkStandaloneCluster.await(Duration.ofMinutes(1), "job " + job + " finished", () -> "FINISHED".equals(flink.jobState(job)));
        produce(input, LINES / 2, LINES);
        long checkpoints = completedCheckpoints(job);
        int before = committed("savepoint");
        assertTrue(before < LINES, "the job was stopped after it had scored every line");
        for (int parallelism : new int[] {1, 3}) {
            String topic = "savepoint-p" + parallelism;
            long submittedAt = System.currentTimeMillis();
            // the same consumer group and transactional id prefix as the stopped job; a new output topic
            String resumed = submit("savepoint", input, topic, parallelism, savepoint);
            awaitOutput(LINES, "savepoint", topic);
            long restoredAt = lastRestore(resumed);
            long resumedCheckpoints = completedCheckpoints(resumed);
            flink.cancel(resumed);
            KeyedOutput out = read("savepoint", topic);
            KeyedOutput.Difference d = out.against(reference);
            row("stop-with-savepoint at parallelism 2 after " + before + " records out, resumed at " + parallelism, out, d,
                    checkpoints + resumedCheckpoints,
                    String.format(Locale.ROOT, "%.1f s from flink run -s", (restoredAt - submittedAt) / 1000.0), 0);
            assertSame(d, "stop-with-savepoint, resumed at parallelism " + parallelism);
        }
    }
}
