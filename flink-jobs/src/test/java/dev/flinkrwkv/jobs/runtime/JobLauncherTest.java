package dev.flinkrwkv.jobs.runtime;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.JobArgs;
import dev.flinkrwkv.jobs.format.ParsedRecord;
import dev.flinkrwkv.jobs.kafka.EmbeddedKafka;
import dev.flinkrwkv.jobs.kafka.KafkaTopics;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.function.SerializableFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command-line path of every job, with a keyed counter standing in for the RWKV operator. */
class JobLauncherTest {
    /** "key|n|text" for the n-th record of each key. */
    static final class CountPipeline implements Pipeline<String> {
        @Override
        public DataStream<String> build(DataStream<ParsedRecord> parsed) {
            return parsed.keyBy(r -> r.key).process(new Count()).returns(Types.STRING).name("count");
        }

        @Override
        public SerializableFunction<String, byte[]> outputKey() {
            return s -> s.substring(0, s.indexOf('|')).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public SerializableFunction<String, byte[]> outputValue() {
            return s -> s.getBytes(StandardCharsets.UTF_8);
        }
    }

    static final class Count extends KeyedProcessFunction<String, ParsedRecord, String> {
        private transient ValueState<Long> n;

        @Override
        public void open(OpenContext ctx) {
            n = getRuntimeContext().getState(new ValueStateDescriptor<>("n", Types.LONG));
        }

        @Override
        public void processElement(ParsedRecord r, Context ctx, Collector<String> out) throws Exception {
            long c = n.value() == null ? 1 : n.value() + 1;
            n.update(c);
            out.collect(r.key + "|" + c + "|" + r.text);
        }
    }

    private static Path writeLog(Path dir) throws IOException {
        Path f = dir.resolve("in.log");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            lines.add((i % 3 == 0 ? "alpha" : "beta") + " line " + i);
            if (i == 10) {
                lines.add("");  // a dead letter
            }
        }
        Files.write(f, lines, StandardCharsets.UTF_8);
        return f;
    }

    private static String run(String... argv) throws IOException {
        return run(new CountPipeline(), argv);
    }

    private static String run(Pipeline<String> pipeline, String... argv) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            JobLauncher.run(JobArgs.parse("test-job", Args.parse(argv, 0)), pipeline, out);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void embeddedDefaultsStartABrokerFeedItAndPrintTheCommittedOutput(@TempDir Path tmp) throws IOException {
        String out = run("--feed", writeLog(tmp).toString(), "--bounded", "--key-pattern", "^(\\w+) ",
                "--checkpoint-dir", tmp.resolve("cp").toString(), "--checkpoint-interval-ms", "200",
                "--parallelism", "2", "--print", "100", "--progress-interval-ms", "1000");
        assertTrue(out.contains("embedded Kafka broker"), out);
        assertTrue(out.contains("fed 31 lines"), out);
        assertTrue(out.matches("(?s).*web UI at http://localhost:\\d+.*"), out);
        assertTrue(out.contains("output: Kafka topic test-job-output"), out);
        assertTrue(out.contains("done: 31 records in, 1 dead letters, 30 out"), out);
        List<String> printed = out.lines().filter(l -> l.startsWith("  alpha|") || l.startsWith("  beta|")).toList();
        assertEquals(30, printed.size(), out);
        assertTrue(printed.contains("  alpha|10|alpha line 27"), out);
        assertTrue(printed.contains("  beta|20|beta line 29"), out);
        // the feed keys each line, so a key's lines reach the job in file order over both partitions
        java.util.Map<String, java.util.TreeMap<Integer, Integer>> lineByCount = new java.util.HashMap<>();
        for (String l : printed) {
            String[] f = l.trim().split("\\|");
            lineByCount.computeIfAbsent(f[0], k -> new java.util.TreeMap<>())
                    .put(Integer.parseInt(f[1]), Integer.parseInt(f[2].substring(f[2].lastIndexOf(' ') + 1)));
        }
        for (var counts : lineByCount.values()) {
            List<Integer> order = new ArrayList<>(counts.values());
            assertEquals(order.stream().sorted().toList(), order, out);
        }
    }

    /**
     * --feed with lines longer than a Kafka record may be (the broker's 1 MB): each becomes a TOO_LONG dead
     * letter stating its real length and the limit it broke, and the rest of the file goes through.
     */
    @Test
    void feedingLinesOverTheRecordLimitDeadLettersThem(@TempDir Path tmp) throws IOException {
        Path log = writeLog(tmp);
        List<String> lines = new ArrayList<>(Files.readAllLines(log));
        lines.add(5, "alpha " + "x".repeat(1_500_000));
        Files.write(log, lines, StandardCharsets.UTF_8);
        String[] common = {"--feed", log.toString(), "--bounded", "--key-pattern", "^(\\w+) ", "--checkpoint-interval-ms", "200",
                "--parallelism", "1", "--web-ui-port", "-1", "--dead-letter-dir", tmp.resolve("dlq").toString()};
        String out = run(concat(common, "--checkpoint-dir", tmp.resolve("cp").toString()));
        assertTrue(out.contains("fed 32 lines") && out.contains("1 longer than a record's"), out);
        assertTrue(out.contains("done: 32 records in, 2 dead letters, 30 out"), out);
        List<String> dead = lines(tmp.resolve("dlq"));
        String tooLong = dead.stream().filter(d -> d.contains("\"TOO_LONG\"")).findFirst().orElseThrow(() -> new AssertionError(dead));
        assertTrue(tooLong.contains("1500006 bytes, over the maximum of 65536 (--max-bytes)"), tooLong);

        // With a maximum above the record limit, the record limit is the one named.
        String big = run(concat(common, "--max-bytes", "4000000", "--dead-letter-dir", tmp.resolve("dlq2").toString(),
                "--checkpoint-dir", tmp.resolve("cp2").toString(), "--input-topic", "big-input", "--output-topic", "big-output"));
        assertTrue(big.contains("done: 32 records in, 2 dead letters, 30 out"), big);
        String limit = lines(tmp.resolve("dlq2")).stream().filter(d -> d.contains("\"TOO_LONG\"")).findFirst().orElseThrow();
        assertTrue(limit.matches(".*1500006 bytes, over the limit of \\d+ bytes for a Kafka record.*"), limit);
    }

    @Test
    void aFailureMidRunLeavesTheSameCommittedOutputAsACleanRun(@TempDir Path tmp) throws IOException {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String bs = kafka.bootstrapServers();
            Path log = tmp.resolve("in.log");
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                lines.add("k" + (i % 5) + " line " + i);
            }
            Files.write(log, lines, StandardCharsets.UTF_8);
            String[] common = {"--bootstrap-servers", bs, "--bounded", "--key-pattern", "^(\\w+) ", "--checkpoint-interval-ms", "150",
                    "--web-ui-port", "-1", "--parallelism", "2"};
            kafka.createTopics(2, "in", "clean-out", "clean-dlq", "failed-out", "failed-dlq");
            KafkaTopics.produce(bs, "in", lines.stream().map(l -> l.getBytes(StandardCharsets.UTF_8)).toList());
            FailureInjection.reset();
            run(new CountPipeline(), concat(common, "--input-topic", "in", "--output-topic", "clean-out", "--dead-letter-topic", "clean-dlq",
                    "--group-id", "clean", "--transactional-id-prefix", "clean", "--checkpoint-dir", tmp.resolve("cp1").toString()));
            String failedRun = run(FailureInjection.failingOnce(new CountPipeline(), 3), concat(common, "--input-topic", "in", "--output-topic", "failed-out",
                    "--dead-letter-topic", "failed-dlq", "--group-id", "failed", "--transactional-id-prefix", "failed",
                    "--checkpoint-dir", tmp.resolve("cp2").toString()));
            assertTrue(FailureInjection.FAILED.get(), "no failure was injected");
            // the totals count each record once, though the restart replayed those after the checkpoint
            assertTrue(failedRun.contains("done: 400 records in, 0 dead letters, 400 out"), failedRun);
            var clean = perKey(KafkaTopics.readSettled(bs, "clean-out", Duration.ofSeconds(60)));
            var failed = perKey(KafkaTopics.readSettled(bs, "failed-out", Duration.ofSeconds(60)));
            assertEquals(5, clean.size());
            clean.values().forEach(v -> assertEquals(80, v.size()));
            assertEquals(clean, failed);
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static java.util.Map<String, List<String>> perKey(List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> records) {
        java.util.Map<String, List<String>> m = new java.util.TreeMap<>();
        for (var r : records) {
            m.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>()).add(new String(r.value(), StandardCharsets.UTF_8));
        }
        return m;
    }

    @Test
    void filesInAndOutNeedNoBroker(@TempDir Path tmp) throws IOException {
        Path outDir = tmp.resolve("out");
        String out = run("--input", writeLog(tmp).toString(), "--output-dir", outDir.toString(), "--key-pattern", "^(\\w+) ",
                "--checkpoint-dir", tmp.resolve("cp").toString(), "--web-ui-port", "-1", "--parallelism", "1");
        assertFalse(out.contains("Kafka"), out);
        assertEquals(30, lines(outDir).size());
        List<String> dead = lines(tmp.resolve("out-dead-letters"));
        assertEquals(1, dead.size());
        assertTrue(dead.get(0).contains("\"EMPTY\"") && dead.get(0).contains("\"offset\":12"), dead.get(0));
    }

    /**
     * As under {@code flink run -d} against a session cluster (here a MiniCluster reached through its REST
     * API, as the flink client reaches a standalone cluster): the client prints the job's id and where to
     * follow it, not counts it cannot know, and returns while the job runs on and commits its output.
     */
    @Test
    @Timeout(180)
    void aDetachedSubmissionPrintsTheJobIdAndWhereToFollowItInsteadOfCounts(@TempDir Path tmp) throws Exception {
        Path outDir = tmp.resolve("out");
        Configuration clusterConf = new Configuration();
        clusterConf.set(RestOptions.BIND_PORT, "0");
        try (MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(clusterConf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(2).build())) {
            cluster.start();
            java.net.URI rest = cluster.getRestAddress().get();
            String out;
            FlinkRunContext.install(rest, true);
            try {
                out = run("--input", writeLog(tmp).toString(), "--output-dir", outDir.toString(), "--key-pattern", "^(\\w+) ",
                        "--parallelism", "1", "--checkpoint-interval-ms", "200");
            } finally {
                FlinkRunContext.reset();
            }
            String ui = "http://" + rest.getHost() + ":" + rest.getPort();
            assertTrue(out.contains("Flink cluster (submitted)"), out);
            assertTrue(out.matches("(?s).*job [0-9a-f]{32} submitted detached; it runs on without this client\\. Follow it in the web UI"
                    + " at " + java.util.regex.Pattern.quote(ui) + "/#/job/running/[0-9a-f]{32}/overview or the REST API at .*"), out);
            assertFalse(out.contains("done:"), out);
            assertFalse(out.contains("progress:"), out);
            long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
            while ((!Files.isDirectory(outDir) || lines(outDir).size() < 30) && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertTrue(Files.isDirectory(outDir), "the detached job wrote no output");
            assertEquals(30, lines(outDir).size(), "the detached job did not finish its output");
        }
    }

    /**
     * As under {@code flink run} (attached) against a session cluster reached through its REST API: the totals
     * come from the job's accumulators, which the cluster reports to the client, not from counters in this
     * process (where no task of the job runs).
     */
    @Test
    @Timeout(180)
    void anAttachedSubmissionToAClusterReportsTheTotalsFromTheJobsAccumulators(@TempDir Path tmp) throws Exception {
        Configuration clusterConf = new Configuration();
        clusterConf.set(RestOptions.BIND_PORT, "0");
        try (MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(clusterConf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(2).build())) {
            cluster.start();
            String out;
            FlinkRunContext.install(cluster.getRestAddress().get(), false);
            try {
                out = run("--input", writeLog(tmp).toString(), "--output-dir", tmp.resolve("out").toString(), "--key-pattern",
                        "^(\\w+) ", "--parallelism", "2", "--checkpoint-interval-ms", "200");
            } finally {
                FlinkRunContext.reset();
            }
            assertTrue(out.contains("Flink cluster (submitted)"), out);
            assertTrue(out.contains("done: 31 records in, 1 dead letters, 30 out"), out);
        }
    }

    /** Installs what {@code flink run} installs: a context environment that submits to a cluster's REST address. */
    static final class FlinkRunContext extends StreamExecutionEnvironment {
        static void install(java.net.URI rest, boolean detached) {
            initializeContextEnvironment(conf -> {
                Configuration c = new Configuration(conf);
                c.set(DeploymentOptions.TARGET, "remote");
                c.set(DeploymentOptions.ATTACHED, !detached);
                c.set(RestOptions.ADDRESS, rest.getHost());
                c.set(RestOptions.PORT, rest.getPort());
                return new StreamExecutionEnvironment(c);
            });
        }

        static void reset() {
            resetContextEnvironment();
        }
    }

    /** A rerun into a directory with output: refused with one line; --append adds to it, --overwrite replaces it. */
    @Test
    void aRerunIntoAnOutputDirectoryWithFilesNeedsOverwriteOrAppend(@TempDir Path tmp) throws IOException {
        Path outDir = tmp.resolve("out");
        String[] args = {"--input", writeLog(tmp).toString(), "--output-dir", outDir.toString(), "--key-pattern", "^(\\w+) ",
                "--checkpoint-dir", tmp.resolve("cp").toString(), "--web-ui-port", "-1", "--parallelism", "1"};
        run(args);
        assertEquals(30, lines(outDir).size());
        IOException refused = assertThrows(IOException.class, () -> run(args));
        assertTrue(refused.getMessage().contains(outDir + " already holds") && refused.getMessage().contains("--overwrite")
                && refused.getMessage().contains("--append"), refused.getMessage());
        assertEquals(30, lines(outDir).size());

        run(concat(args, "--append"));
        assertEquals(60, lines(outDir).size());
        assertEquals(2, lines(tmp.resolve("out-dead-letters")).size());
        run(concat(args, "--overwrite"));
        assertEquals(30, lines(outDir).size());
        assertEquals(1, lines(tmp.resolve("out-dead-letters")).size());

        Files.writeString(outDir.resolve("notes.txt"), "mine");
        IOException notOurs = assertThrows(IOException.class, () -> run(concat(args, "--overwrite")));
        assertTrue(notOurs.getMessage().contains("holds notes.txt, which is not a part file"), notOurs.getMessage());
        assertTrue(Files.exists(outDir.resolve("notes.txt")));
    }

    /** The address printed at start serves Flink's web UI and REST API, which shows the running job. */
    @Test
    @org.junit.jupiter.api.Timeout(180)
    void theWebUiAtThePrintedAddressShowsTheRunningJob(@TempDir Path tmp) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        Thread job = new Thread(() -> {
            try {
                // An unbounded topic: the job runs until interrupted.
                JobLauncher.run(JobArgs.parse("web-ui-job", Args.parse(new String[] {"--checkpoint-dir",
                        tmp.resolve("cp").toString(), "--web-ui-port", "0", "--parallelism", "1"}, 0)), new CountPipeline(), out);
            } catch (IOException stopped) {
                // interrupted: the job is cancelled
            }
        }, "web-ui-job");
        job.setDaemon(true);
        job.start();
        try {
            java.util.regex.Pattern address = java.util.regex.Pattern.compile("web UI at (http://localhost:\\d+)");
            String url = null;
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (System.nanoTime() < deadline) {
                String text = buf.toString(StandardCharsets.UTF_8);
                java.util.regex.Matcher m = address.matcher(text);
                if (m.find() && text.contains(" started")) {
                    url = m.group(1);
                    break;
                }
                Thread.sleep(100);
            }
            assertTrue(url != null, buf.toString(StandardCharsets.UTF_8));
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            var page = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("<html") || page.body().contains("<!DOCTYPE"), page.body());
            String jobs = "";
            while (System.nanoTime() < deadline && !jobs.contains("\"state\":\"RUNNING\"")) {
                jobs = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/jobs/overview")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                Thread.sleep(200);
            }
            assertTrue(jobs.contains("\"name\":\"web-ui-job\"") && jobs.contains("\"state\":\"RUNNING\""), jobs);
        } finally {
            job.interrupt();
            job.join(60_000);
        }
    }

    @Test
    void anUnreachableBrokerFailsAtStartWithAClearMessage(@TempDir Path tmp) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> run("--bootstrap-servers", "127.0.0.1:1",
                "--broker-check-ms", "1500", "--checkpoint-dir", tmp.toString(), "--web-ui-port", "-1"));
        assertTrue(e.getMessage().startsWith("cannot reach Kafka at 127.0.0.1:1"), e.getMessage());
    }

    private static List<String> lines(Path dir) throws IOException {
        List<String> all = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("part")).toList()) {
                all.addAll(Files.readAllLines(p));
            }
        }
        return all;
    }
}
