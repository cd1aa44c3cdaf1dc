package dev.flinkrwkv.jobs.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkrwkv.jobs.Shared;
import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.JobArgs;
import dev.flinkrwkv.jobs.kafka.EmbeddedKafka;
import dev.flinkrwkv.jobs.kafka.KafkaTopics;
import dev.flinkrwkv.jobs.runtime.FailureInjection;
import dev.flinkrwkv.jobs.runtime.OperatorSettings;
import dev.flinkrwkv.jobs.runtime.JobLauncher;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generate job on the in-JVM Kafka broker, with a tiny byte-level model: JSON prompts of a few sessions
 * in, one generation per prompt out (read_committed), in order per session; bad records are dead letters;
 * a failure injected mid-run leaves the same committed output as a clean run.
 */
class GenerateJobTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SESSIONS = 4;
    private static final int PROMPTS = 48;
    private static final String MODEL = Shared.tinyModel("tiny-rwkv-4v0-660K-FP32.bin").toString();

    private static List<byte[]> input() {
        List<byte[]> in = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            in.add(("{\"session\":\"s" + (i % SESSIONS) + "\",\"prompt\":\"Hello " + i + "\\n\"}")
                    .getBytes(StandardCharsets.UTF_8));
            if (i == 5) {
                in.add("{\"session\":\"s1\",".getBytes(StandardCharsets.UTF_8));            // INVALID_JSON
            }
            if (i == 9) {
                in.add("{\"session\":\"s2\",\"text\":\"x\"}".getBytes(StandardCharsets.UTF_8)); // MISSING_FIELD
            }
        }
        return in;
    }

    private static String[] args(String bs, String run, Path tmp, String... more) {
        String[] a = {"--model", MODEL, "--bootstrap-servers", bs, "--bounded", "--input-topic", "prompts",
                "--output-topic", run + "-out", "--dead-letter-topic", run + "-dlq", "--group-id", run,
                "--transactional-id-prefix", run, "--checkpoint-dir", tmp.resolve(run).toString(),
                "--checkpoint-interval-ms", "150", "--web-ui-port", "-1", "--parallelism", "2",
                "--text-field", "prompt", "--key-field", "session",
                "--max-tokens", "8", "--temperature", "1.0", "--top-k", "40", "--top-p", "0.95", "--stop", "\\n",
                "--seed", "5", "--batch-size", "4", "--batch-delay-ms", "20"};
        String[] r = Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, r, a.length, more.length);
        return r;
    }

    @Test
    void generatesPerSessionExactlyOnceWithDeadLettersAndSurvivesAFailure(@TempDir Path tmp) throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String bs = kafka.bootstrapServers();
            kafka.createTopics(2, "prompts", "clean-out", "clean-dlq", "failed-out", "failed-dlq");
            KafkaTopics.produce(bs, "prompts", input());

            // the command, end to end
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            PrintStream err = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
            int rc = dev.flinkrwkv.jobs.Main.run(concat(new String[] {"generate"}, args(bs, "clean", tmp)),
                    new PrintStream(buf, true, StandardCharsets.UTF_8), err);
            String out = buf.toString(StandardCharsets.UTF_8);
            assertEquals(0, rc, out);
            assertTrue(out.contains("done: " + (PROMPTS + 2) + " records in, 2 dead letters, " + PROMPTS + " out"), out);

            Map<String, List<String>> clean = perKey(KafkaTopics.readSettled(bs, "clean-out", Duration.ofSeconds(60)));
            assertEquals(SESSIONS, clean.size());
            for (Map.Entry<String, List<String>> e : clean.entrySet()) {
                List<String> lines = e.getValue();
                assertEquals(PROMPTS / SESSIONS, lines.size(), e.getKey());
                for (String line : lines) {
                    JsonNode g = JSON.readTree(line);
                    assertEquals(e.getKey(), g.get("key").asText());
                    assertEquals("prompts", g.get("source").asText());
                    int tokens = g.get("tokens").asInt();
                    String stop = g.get("stop").asText();
                    assertTrue(tokens >= 1 && tokens <= 8, line);
                    if (stop.equals("max_tokens")) {
                        assertEquals(8, tokens, line);
                    } else {
                        assertEquals("stop_sequence", stop, line);
                    }
                    assertTrue(!g.get("text").asText().contains("\n"), "the stop sequence is not shown: " + line);
                    int promptTokens = g.get("prompt_tokens").asInt();
                    assertTrue(promptTokens == 8 || promptTokens == 9, line); // "Hello N\n", N < 48
                }
            }
            List<String> dead = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : KafkaTopics.readSettled(bs, "clean-dlq", Duration.ofSeconds(60))) {
                dead.add(JSON.readTree(r.value()).get("reason").asText());
            }
            dead.sort(null);
            assertEquals(List.of("INVALID_JSON", "MISSING_FIELD"), dead);

            // the same job, throttled, failing once after a checkpoint: same committed output
            FailureInjection.reset();
            GenerateJob job = new GenerateJob(MODEL, GenerateCommand.options(Args.parse(args(bs, "failed", tmp), 0)),
                    OperatorSettings.batching(4, Duration.ofMillis(20)));
            JobLauncher.run(JobArgs.parse("generate", Args.parse(args(bs, "failed", tmp), 0)),
                    FailureInjection.failingOnce(job, 15), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            assertTrue(FailureInjection.FAILED.get(), "no failure was injected");
            assertEquals(clean, perKey(KafkaTopics.readSettled(bs, "failed-out", Duration.ofSeconds(60))));
        }
    }

    @Test
    void plainLinesOfOneSessionContinueTheConversation(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("prompts.txt");
        List<String> prompts = List.of("Hi there", "and again", "", "once more");
        java.nio.file.Files.write(in, prompts, StandardCharsets.UTF_8);
        Path outDir = tmp.resolve("out");
        int rc = dev.flinkrwkv.jobs.Main.run(new String[] {"generate", "--model", MODEL, "--input", in.toString(),
                        "--output-dir", outDir.toString(), "--checkpoint-dir", tmp.resolve("cp").toString(),
                        "--web-ui-port", "-1", "--parallelism", "1", "--greedy", "--max-tokens", "6"},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertEquals(0, rc);
        List<String> lines = new ArrayList<>();
        try (var files = java.nio.file.Files.list(outDir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("part")).toList()) {
                lines.addAll(java.nio.file.Files.readAllLines(f));
            }
        }
        // the plain way: one conversation, greedy, each prompt read after the previous generated text
        dev.flinkrwkv.rwkv.RwkvModel m = dev.flinkrwkv.rwkv.RwkvModel.load(Path.of(MODEL));
        dev.flinkrwkv.rwkv.RwkvEvaluator ev = m.newEvaluator();
        dev.flinkrwkv.rwkv.RwkvState state = m.initialState();
        float[] logits = new float[m.vocab()];
        int pending = 0;
        List<String> expected = new ArrayList<>();
        for (String p : prompts) {
            if (p.isEmpty()) {
                continue; // a dead letter
            }
            for (byte b : p.getBytes(StandardCharsets.UTF_8)) {
                ev.step(state, pending, logits);
                pending = b & 0xFF;
            }
            byte[] gen = new byte[6];
            for (int i = 0; i < gen.length; i++) {
                ev.step(state, pending, logits);
                pending = dev.flinkrwkv.sample.Sampler.argmax(logits, 0, m.vocab());
                gen[i] = (byte) pending;
            }
            expected.add(new String(gen, StandardCharsets.UTF_8));
        }
        assertEquals(3, lines.size(), lines.toString());
        for (int i = 0; i < 3; i++) {
            JsonNode g = JSON.readTree(lines.get(i));
            assertEquals("default", g.get("key").asText());
            assertEquals(expected.get(i), g.get("text").asText(), lines.get(i));
            assertEquals("max_tokens", g.get("stop").asText());
        }
        List<String> dead = java.nio.file.Files.readAllLines(java.nio.file.Files.list(tmp.resolve("out-dead-letters"))
                .filter(f -> f.getFileName().toString().startsWith("part")).findFirst().orElseThrow());
        assertEquals(1, dead.size());
        assertTrue(dead.get(0).contains("\"EMPTY\""), dead.get(0));
    }

    @Test
    void badSamplingOptionsAreUsageErrors() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = dev.flinkrwkv.jobs.Main.run(new String[] {"generate", "--model", MODEL, "--temperature", "-1"},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, rc);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("temperature must be 0 (greedy) or positive"), err.toString());
        assertEquals(2, dev.flinkrwkv.jobs.Main.run(new String[] {"generate", "--model", MODEL, "--max-tokens", "0"},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
    }

    private static Map<String, List<String>> perKey(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<String, List<String>> m = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            m.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>())
                    .add(new String(r.value(), StandardCharsets.UTF_8));
        }
        return m;
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
