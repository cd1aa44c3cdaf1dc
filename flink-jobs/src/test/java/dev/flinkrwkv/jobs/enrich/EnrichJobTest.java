package dev.flinkrwkv.jobs.enrich;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkrwkv.jobs.Shared;
import dev.flinkrwkv.jobs.kafka.EmbeddedKafka;
import dev.flinkrwkv.jobs.kafka.KafkaTopics;
import dev.flinkrwkv.jobs.runtime.FailureInjection;
import dev.flinkrwkv.jobs.runtime.OperatorSettings;
import dev.flinkrwkv.jobs.runtime.JobRuns;
import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** enrich end to end on the in-JVM Kafka broker. */
class EnrichJobTest {
    static final Path MODEL = Shared.tinyModel("tiny-rwkv-7v0-834K-FP32.bin");
    static final ObjectMapper JSON = new ObjectMapper();
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
     * JSON records (and bad ones) in; the good records come out unchanged plus the {@code rwkv} field, whose
     * surprisal and top-k equal the bare evaluator's over each user's texts; the bad records are dead letters
     * with their reasons. A run with a failure mid-run commits the same records as the command's clean run.
     */
    @Test
    void enrichesEachRecordAsTheBareEvaluatorDoesAndRecoversExactly(@TempDir Path tmp) throws IOException {
        List<String> good = new ArrayList<>();
        List<byte[]> input = new ArrayList<>();
        for (int i = 0; i < 45; i++) {
            String rec = "{\"user\":\"u" + (i % 3) + "\",\"n\":" + i + ",\"msg\":\"item " + (i * 5 % 7) + " added to cart\"}";
            good.add(rec);
            input.add(rec.getBytes(StandardCharsets.UTF_8));
            switch (i) {
                case 5 -> input.add("{\"user\":\"u1\",\"msg\":".getBytes(StandardCharsets.UTF_8));
                case 12 -> input.add("{\"user\":\"u1\",\"text\":\"no msg\"}".getBytes(StandardCharsets.UTF_8));
                case 19 -> input.add(new byte[] {'{', '"', 'm', 's', 'g', '"', ':', '"', (byte) 0xFF, '"', '}'});
                case 26 -> input.add(new byte[0]);
                case 33 -> input.add(("{\"user\":\"u2\",\"msg\":\"" + "y".repeat(300) + "\"}").getBytes(StandardCharsets.UTF_8));
                case 40 -> input.add("{\"msg\":\"no user\"}".getBytes(StandardCharsets.UTF_8));
                default -> { }
            }
        }
        kafka.createTopics(1, "en-in");
        kafka.createTopics(2, "en-clean-out", "en-clean-dlq", "en-failed-out", "en-failed-dlq");
        KafkaTopics.produce(bs, "en-in", input);
        String[] common = {"--bootstrap-servers", bs, "--input-topic", "en-in", "--bounded", "--text-field", "msg",
                "--key-field", "user", "--max-bytes", "200", "--checkpoint-interval-ms", "150", "--web-ui-port", "-1",
                "--parallelism", "2"};
        JobRuns.Result r = JobRuns.main(JobRuns.concat(JobRuns.concat(new String[] {"enrich", "--model", MODEL.toString(),
                "--top-k", "3", "--batch-size", "4", "--batch-delay-ms", "20", "--evaluator-threads", "2"}, common), "--output-topic", "en-clean-out",
                "--dead-letter-topic", "en-clean-dlq", "--group-id", "clean", "--transactional-id-prefix", "clean",
                "--checkpoint-dir", tmp.resolve("cp1").toString()));
        assertEquals(0, r.exit(), r.err() + r.out());
        FailureInjection.reset();
        JobRuns.launch("enrich", FailureInjection.failingOnce(new EnrichJob(MODEL.toString(), new dev.flinkrwkv.tokenize.ByteTokenizer(), 3, "rwkv", OperatorSettings.batching(4, Duration.ofMillis(20))), 25),
                JobRuns.concat(common, "--output-topic", "en-failed-out", "--dead-letter-topic", "en-failed-dlq", "--group-id", "failed",
                        "--transactional-id-prefix", "failed", "--checkpoint-dir", tmp.resolve("cp2").toString()));
        assertTrue(FailureInjection.FAILED.get(), "no failure was injected");

        Map<String, List<JsonNode>> clean = JobRuns.committedByKey(bs, "en-clean-out");
        assertEquals(Set.of("u0", "u1", "u2"), clean.keySet());
        Map<String, List<JsonNode>> expected = expected(good, 3);
        for (String user : expected.keySet()) {
            List<JsonNode> want = expected.get(user);
            List<JsonNode> got = clean.get(user);
            assertEquals(want.size(), got.size(), user);
            for (int j = 0; j < got.size(); j++) {
                JsonNode g = got.get(j);
                JsonNode w = want.get(j);
                String at = user + " #" + j + ": " + g;
                assertEquals(List.of("user", "n", "msg", "rwkv"), fieldNames(g), at);
                assertEquals(w.get("n").asInt(), g.get("n").asInt(), at);
                assertEquals(w.get("msg").asText(), g.get("msg").asText(), at);
                JsonNode gr = g.get("rwkv");
                JsonNode wr = w.get("rwkv");
                assertEquals(wr.get("tokens").asInt(), gr.get("tokens").asInt(), at);
                assertEquals(wr.get("surprisal_bits").asDouble(), gr.get("surprisal_bits").asDouble(), 2e-6, at);
                assertEquals(wr.get("max_bits").asDouble(), gr.get("max_bits").asDouble(), 2e-6, at);
                assertEquals(3, gr.get("next").size(), at);
                for (int t = 0; t < 3; t++) {
                    assertEquals(wr.get("next").get(t).get("id").asInt(), gr.get("next").get(t).get("id").asInt(), at);
                    assertEquals(wr.get("next").get(t).get("token").asText(), gr.get("next").get(t).get("token").asText(), at);
                    assertEquals(wr.get("next").get(t).get("p").asDouble(), gr.get("next").get(t).get("p").asDouble(), 2e-6, at);
                }
            }
        }
        assertEquals(clean, JobRuns.committedByKey(bs, "en-failed-out"));

        List<JsonNode> dead = JobRuns.committed(bs, "en-clean-dlq");
        List<String> reasons = new ArrayList<>();
        dead.forEach(d -> reasons.add(d.get("reason").asText()));
        assertEquals(Set.of("INVALID_JSON", "MISSING_FIELD", "INVALID_UTF8", "EMPTY", "TOO_LONG"), new TreeSet<>(reasons), dead.toString());
        assertEquals(6, dead.size(), dead.toString());  // two records miss a field: the text, the key
        assertEquals(new TreeSet<>(dead.stream().map(JsonNode::toString).toList()),
                new TreeSet<>(JobRuns.committed(bs, "en-failed-dlq").stream().map(JsonNode::toString).toList()));
    }

    @Test
    void withoutATextFieldItIsAUsageError(@TempDir Path tmp) {
        JobRuns.Result r = JobRuns.main("enrich", "--model", MODEL.toString(), "--input", tmp.resolve("in.json").toString(),
                "--output-dir", tmp.resolve("out").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("flink-rwkv enrich: enrich reads JSON records: give --text-field"), r.err());
    }

    /**
     * Each user's records through one state with the bare evaluator: history {@code <0> \n text \n text ...},
     * each text's tokens scored, then the top-k after it.
     */
    static Map<String, List<JsonNode>> expected(List<String> records, int k) throws IOException {
        RwkvModel model = RwkvModel.load(MODEL);
        RwkvEvaluator ev = model.newEvaluator();
        Map<String, RwkvState> states = new HashMap<>();
        Map<String, List<JsonNode>> out = new HashMap<>();
        float[] logits = new float[256];
        for (String rec : records) {
            JsonNode in = JSON.readTree(rec);
            String user = in.get("user").asText();
            RwkvState s = states.computeIfAbsent(user, u -> {
                RwkvState init = model.initialState();
                ev.step(init, 0, logits);  // the start token; its logits predict the separator, not scored
                return init;
            });
            ev.step(s, '\n', logits);  // the separator: its logits predict the text's first token
            byte[] text = in.get("msg").asText().getBytes(StandardCharsets.UTF_8);
            double sum = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < text.length; i++) {
                double bits = -(float) LogProbs.of(logits, 0, 256, text[i] & 0xFF) / Math.log(2);
                sum += bits;
                max = Math.max(max, bits);
                ev.step(s, text[i] & 0xFF, logits);
            }
            // logits now predict what follows the text: the top-k
            Integer[] ids = new Integer[256];
            for (int i = 0; i < 256; i++) {
                ids[i] = i;
            }
            java.util.Arrays.sort(ids, (a, b) -> Float.compare(logits[b], logits[a]));
            int[] top = new int[k];
            float[] p = new float[k];
            for (int i = 0; i < k; i++) {
                top[i] = ids[i];
                p[i] = (float) Math.exp((float) LogProbs.of(logits, 0, 256, ids[i]));
            }
            String enriched = new Enrichment("rwkv").enrich(rec, sum / text.length, max, text.length, top, p, k, TokenText::ofByte);
            out.computeIfAbsent(user, u -> new ArrayList<>()).add(JSON.readTree(enriched));
        }
        return out;
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
