package dev.flinkrwkv.jobs.scorelogs;

import dev.flinkrwkv.jobs.logs.AnomalyDetector;
import dev.flinkrwkv.jobs.logs.Baseline;
import dev.flinkrwkv.jobs.logs.LineScore;
import dev.flinkrwkv.jobs.logs.LineSurprisal;
import dev.flinkrwkv.jobs.logs.LineTag;
import dev.flinkrwkv.jobs.logs.LineStatistic;
import dev.flinkrwkv.jobs.logs.RwkvLineScorer;
import dev.flinkrwkv.jobs.logs.FitInfo;
import dev.flinkrwkv.jobs.logs.LineNormalizer;
import com.fasterxml.jackson.databind.JsonNode;
import dev.flinkrwkv.jobs.Shared;
import dev.flinkrwkv.jobs.format.RawRecord;
import dev.flinkrwkv.jobs.format.RecordParser;
import dev.flinkrwkv.jobs.kafka.EmbeddedKafka;
import dev.flinkrwkv.jobs.kafka.KafkaTopics;
import dev.flinkrwkv.jobs.runtime.FailureInjection;
import dev.flinkrwkv.jobs.runtime.OperatorSettings;
import dev.flinkrwkv.jobs.runtime.JobRuns;
import dev.flinkrwkv.rwkv.RwkvModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** score-logs end to end on the in-JVM Kafka broker, one broker for the class. */
class ScoreLogsJobTest {
    static final Path MODEL = Shared.tinyModel("tiny-rwkv-4v0-660K-FP32.bin");
    /** The midplane of a BGL line's node, e.g. R02-M1. */
    static final String BGL_KEY = "^\\S+ \\S+ \\S+ (R\\d+-M\\d+)";
    static EmbeddedKafka kafka;
    static String bs;

    @BeforeAll
    static void startKafka() {
        kafka = EmbeddedKafka.start();
        bs = kafka.bootstrapServers();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    /**
     * The streamed scores of BGL lines (several keys, batched across keys at parallelism 2) equal what
     * eval-logs computes offline with {@link RwkvLineScorer} and the same detector, line for line and
     * field for field, for a line statistic over the message ({@code --line-statistic body-max}: the message's
     * first token found in the stream as offline); {@code --print-flagged} prints each flagged line once. The
     * model's metadata says it was fitted to lines with their digits masked ({@code fit --normalize digits}):
     * the job masks them as the offline scorer does, and the output keeps each line's own text.
     */
    @Test
    void scoresEqualTheOfflineScorersOnBglLines(@TempDir Path tmp) throws IOException {
        List<String> lines = Files.readAllLines(Shared.bgl(), StandardCharsets.UTF_8).subList(0, 200);
        Path file = tmp.resolve("bgl.log");
        Files.write(file, lines, StandardCharsets.UTF_8);
        Path model = tmp.resolve("masked.bin");
        Files.copy(MODEL, model);
        new FitInfo(10, 10, "last", 8, 8, 1000, 100, false, 1, 32, 16, 16, "FP32", LineNormalizer.DIGITS).write(model);
        kafka.createTopics(2, "eq-out", "eq-dlq");
        JobRuns.Result r = JobRuns.main("score-logs", "--model", model.toString(), "--input", file.toString(),
                "--bootstrap-servers", bs, "--output-topic", "eq-out", "--dead-letter-topic", "eq-dlq",
                "--key-pattern", BGL_KEY, "--default-key", "other", "--warmup", "5", "--threshold", "1",
                "--line-statistic", "body-max", "--batch-size", "16", "--print-flagged", "--web-ui-port", "-1", "--parallelism", "2",
                "--checkpoint-dir", tmp.resolve("cp").toString(), "--checkpoint-interval-ms", "500");
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().contains("done: 200 records in, 0 dead letters, 200 out"), r.out());

        // offline: the same keys, each key's lines in file order through RwkvLineScorer, then the detector
        RecordParser keys = RecordParser.lines().keyByPattern(BGL_KEY).defaultKey("other");
        Map<String, List<Integer>> byKey = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            byte[] b = lines.get(i).getBytes(StandardCharsets.UTF_8);
            byKey.computeIfAbsent(keys.parse(new RawRecord("", -1, i + 1, b)).record().key, k -> new ArrayList<>()).add(i);
        }
        RwkvLineScorer scorer = new RwkvLineScorer(RwkvModel.load(MODEL)).withNormalizer(LineNormalizer.DIGITS);
        AnomalyDetector detector = new AnomalyDetector(AnomalyDetector.DEFAULT_ALPHA, 5, 1, AnomalyDetector.DEFAULT_MIN_STD);
        Map<String, List<LineScore>> expected = new HashMap<>();
        int withPrefix = 0;
        for (var e : byKey.entrySet()) {
            List<byte[]> keyLines = new ArrayList<>();
            e.getValue().forEach(i -> keyLines.add(lines.get(i).getBytes(StandardCharsets.UTF_8)));
            RwkvLineScorer.TokenScores ts = scorer.tokenScores(keyLines, n -> { });
            LineSurprisal[] s = new LineSurprisal[keyLines.size()];
            for (int j = 0; j < s.length; j++) {
                s[j] = LineStatistic.BODY_MAX.of(ts.logProbs()[j], ts.bodyStart()[j]);
                withPrefix += ts.bodyStart()[j] > 0 ? 1 : 0;
            }
            Baseline b = new Baseline();
            List<LineScore> scores = new ArrayList<>();
            for (int j = 0; j < s.length; j++) {
                LineScore want = detector.score(e.getKey(), file.toString(), -1, e.getValue().get(j) + 1, s[j], b);
                want.text = LineTag.prefix(lines.get(e.getValue().get(j)), ScoreLogsJob.DEFAULT_TEXT_CHARS);
                scores.add(want);
            }
            expected.put(e.getKey(), scores);
        }
        assertTrue(expected.size() >= 5, "too few keys to batch across: " + expected.keySet());
        assertTrue(withPrefix > 100, withPrefix + " of 200 lines with a prefix before the message: the statistic was not tested");

        Map<String, List<JsonNode>> actual = JobRuns.committedByKey(bs, "eq-out");
        assertEquals(expected.keySet(), actual.keySet());
        int flagged = 0;
        for (var e : expected.entrySet()) {
            List<JsonNode> got = actual.get(e.getKey());
            assertEquals(e.getValue().size(), got.size(), e.getKey());
            for (int j = 0; j < got.size(); j++) {
                LineScore want = e.getValue().get(j);
                JsonNode g = got.get(j);
                // the same function of the same input: equal to the last printed digit
                assertEquals(JobRuns.json(want.toJsonBytes()), got.get(j), e.getKey() + " line " + want.offset);
                flagged += want.flagged ? 1 : 0;
            }
        }
        assertTrue(flagged > 0, "no line flagged: the flag was not compared");
        // --print-flagged showed each flagged line once, as committed
        assertEquals(flagged, r.out().lines().filter(l -> l.startsWith("flagged: {") && l.contains("\"flagged\":true")).count(), r.out());
    }

    /**
     * One failure mid-run (after a checkpoint): the committed output equals a failure-free run's, each
     * key's lines in order; bad records go to the dead-letter topic with their reasons, once, and the job
     * goes on.
     */
    @Test
    void aFailureMidRunLeavesTheSameCommittedOutputAndDeadLettersTheBadLines(@TempDir Path tmp) {
        List<byte[]> input = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            input.add(("host" + (i % 3) + " session " + (i * 7 % 13) + " opened for user u" + (i % 5))
                    .getBytes(StandardCharsets.UTF_8));
            switch (i) {
                case 10 -> input.add(new byte[] {'h', 'o', 's', 't', '1', ' ', (byte) 0xC3, '(', 'x'});
                case 20 -> input.add(new byte[0]);
                case 30 -> input.add(("host2 " + "x".repeat(200)).getBytes(StandardCharsets.UTF_8));
                case 40 -> input.add("no key on this line".getBytes(StandardCharsets.UTF_8));
                default -> { }
            }
        }
        kafka.createTopics(1, "fi-in");
        kafka.createTopics(2, "fi-clean-out", "fi-clean-dlq", "fi-failed-out", "fi-failed-dlq");
        KafkaTopics.produce(bs, "fi-in", input);
        String[] common = {"--bootstrap-servers", bs, "--input-topic", "fi-in", "--bounded", "--key-pattern", "^(host\\d) ",
                "--max-bytes", "100", "--checkpoint-interval-ms", "150", "--web-ui-port", "-1", "--parallelism", "2"};
        AnomalyDetector detector = new AnomalyDetector(0.1, 3, 2.0, AnomalyDetector.DEFAULT_MIN_STD);
        ScoreLogsJob job = new ScoreLogsJob(MODEL.toString(), OperatorSettings.batching(4, Duration.ofMillis(20)), detector);
        FailureInjection.reset();
        JobRuns.launch("score-logs", job, JobRuns.concat(common, "--output-topic", "fi-clean-out", "--dead-letter-topic",
                "fi-clean-dlq", "--group-id", "clean", "--transactional-id-prefix", "clean", "--checkpoint-dir", tmp.resolve("cp1").toString()));
        JobRuns.launch("score-logs", FailureInjection.failingOnce(job, 25), JobRuns.concat(common, "--output-topic", "fi-failed-out",
                "--dead-letter-topic", "fi-failed-dlq", "--group-id", "failed", "--transactional-id-prefix", "failed",
                "--checkpoint-dir", tmp.resolve("cp2").toString()));
        assertTrue(FailureInjection.FAILED.get(), "no failure was injected");

        Map<String, List<JsonNode>> clean = JobRuns.committedByKey(bs, "fi-clean-out");
        assertEquals(Set.of("host0", "host1", "host2"), clean.keySet());
        clean.values().forEach(v -> assertEquals(20, v.size()));
        for (List<JsonNode> key : clean.values()) {
            for (int j = 1; j < key.size(); j++) {
                assertTrue(key.get(j).get("offset").asLong() > key.get(j - 1).get("offset").asLong(), "out of order: " + key);
            }
        }
        assertEquals(clean, JobRuns.committedByKey(bs, "fi-failed-out"));

        List<JsonNode> dead = JobRuns.committed(bs, "fi-clean-dlq");
        Set<String> reasons = new TreeSet<>();
        dead.forEach(d -> reasons.add(d.get("reason").asText()));
        assertEquals(Set.of("INVALID_UTF8", "EMPTY", "TOO_LONG", "NO_KEY"), reasons, dead.toString());
        assertEquals(4, dead.size(), dead.toString());
        assertEquals(new TreeSet<>(dead.stream().map(JsonNode::toString).toList()),
                new TreeSet<>(JobRuns.committed(bs, "fi-failed-dlq").stream().map(JsonNode::toString).toList()));
    }

    /**
     * File output: each record carries the start of its line (--output-text-chars), and --print-flagged
     * prints the flagged records as their part files are committed, each once.
     */
    @Test
    void fileOutputCarriesTheLineTextAndPrintFlaggedFollowsIt(@TempDir Path tmp) throws IOException {
        List<String> lines = Files.readAllLines(Shared.bgl(), StandardCharsets.UTF_8).subList(0, 120);
        Path file = tmp.resolve("bgl.log");
        Files.write(file, lines, StandardCharsets.UTF_8);
        Path out = tmp.resolve("out");
        JobRuns.Result r = JobRuns.main("score-logs", "--model", MODEL.toString(), "--input", file.toString(),
                "--output-dir", out.toString(), "--output-text-chars", "30", "--warmup", "5", "--threshold", "1.5",
                "--print-flagged", "--web-ui-port", "-1", "--parallelism", "1",
                "--checkpoint-dir", tmp.resolve("cp").toString(), "--checkpoint-interval-ms", "300");
        assertEquals(0, r.exit(), r.err() + r.out());
        List<JsonNode> records = new ArrayList<>();
        try (var parts = Files.list(out)) {
            for (Path p : parts.filter(p -> p.getFileName().toString().startsWith("part-")).toList()) {
                Files.readAllLines(p).forEach(l -> records.add(JobRuns.json(l.getBytes(StandardCharsets.UTF_8))));
            }
        }
        assertEquals(120, records.size());
        long flagged = 0;
        for (JsonNode rec : records) {
            String line = lines.get((int) rec.get("offset").asLong() - 1);
            assertEquals(line.substring(0, 30), rec.get("text").asText());
            flagged += rec.get("flagged").asBoolean() ? 1 : 0;
        }
        assertTrue(flagged > 0, "nothing flagged: --print-flagged not exercised");
        assertEquals(flagged, r.out().lines().filter(l -> l.startsWith("flagged: {") && l.contains("\"flagged\":true")
                && l.contains("\"text\":\"")).count(), r.out());
    }

    @Test
    void aBadModelPathFailsAtStartWithOneLine(@TempDir Path tmp) {
        JobRuns.Result r = JobRuns.main("score-logs", "--model", tmp.resolve("missing.bin").toString(),
                "--input", tmp.resolve("in.log").toString(), "--output-dir", tmp.resolve("out").toString(), "--web-ui-port", "-1");
        assertEquals(1, r.exit());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("flink-rwkv score-logs: ") && r.err().contains("missing.bin") && r.err().contains("does not exist"), r.err());
        assertTrue(!r.out().contains("embedded"), "started something before failing: " + r.out());
    }

    @Test
    void anUnreachableBrokerFailsAtStartWithOneLine(@TempDir Path tmp) {
        JobRuns.Result r = JobRuns.main("score-logs", "--model", MODEL.toString(), "--bootstrap-servers", "127.0.0.1:1",
                "--broker-check-ms", "1500", "--checkpoint-dir", tmp.toString(), "--web-ui-port", "-1");
        assertEquals(1, r.exit());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("flink-rwkv score-logs: cannot reach Kafka at 127.0.0.1:1"), r.err());
    }
}
