package dev.flinkrwkv.jobs.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkrwkv.jobs.Main;
import dev.flinkrwkv.jobs.Shared;
import dev.flinkrwkv.jobs.enrich.TokenText;
import dev.flinkrwkv.jobs.logs.LineSurprisal;
import dev.flinkrwkv.jobs.logs.RwkvLineScorer;
import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.ModelWriter;
import dev.flinkrwkv.rwkv.RandomModel;
import dev.flinkrwkv.model.RwkvVersion;
import dev.flinkrwkv.model.Tensor;
import dev.flinkrwkv.model.TensorType;
import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.sample.Sampler;
import dev.flinkrwkv.tokenize.StreamingDecoder;
import dev.flinkrwkv.tokenize.Tokenizer;
import dev.flinkrwkv.tokenize.Tokenizers;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jobs with real tokenizers: a small random RWKV-7 with the World vocabulary (65536) through
 * {@code generate --template chat} and {@code enrich}, each checked against the bare evaluator; a crafted
 * model whose every next token is fixed, to see the chat reply end at a blank line that is one token or two;
 * the official-layout {@code .pth} fixtures (byte-level) through {@code eval} and {@code generate}; and a
 * tokenizer the model lacks ids for.
 */
@Timeout(300)
class TokenizedJobsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Tokenizer WORLD = Tokenizers.named("world");
    private static final Path PTH = Shared.testData("pth").resolve("tiny-rwkv-7v0-834K-3L-bf16.pth");

    @TempDir
    static Path dir;
    private static Path world;

    @BeforeAll
    static void models() throws IOException {
        world = dir.resolve("world.bin");
        RandomModel.write(RandomModel.Shape.of(RwkvVersion.V7, 1, 32, WORLD.vocab()), TensorType.FP32, 7, world);
    }

    record Run(int exit, String out, String err) {}

    private static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs a file job with one JSON input file; returns its output lines. */
    private static List<JsonNode> job(String name, Path model, List<String> records, String... more) throws IOException {
        Path base = Files.createTempDirectory(dir, name);
        Path in = base.resolve("in.json");
        Files.write(in, records, StandardCharsets.UTF_8);
        List<String> argv = new ArrayList<>(List.of(name, "--model", model.toString(), "--input", in.toString(),
                "--output-dir", base.resolve("out").toString(), "--checkpoint-dir", base.resolve("cp").toString(),
                "--web-ui-port", "-1", "--parallelism", "1"));
        argv.addAll(List.of(more));
        Run r = run(argv.toArray(new String[0]));
        assertEquals(0, r.exit(), r.out() + r.err());
        List<JsonNode> lines = new ArrayList<>();
        try (var files = Files.list(base.resolve("out"))) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("part")).sorted().toList()) {
                for (String l : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                    lines.add(JSON.readTree(l));
                }
            }
        }
        return lines;
    }

    /** Greedy generation the plain way: feeds {@code pending} then the prompt, then each generated token. */
    private static int[] greedy(RwkvModel m, RwkvState s, int pending, int[] prompt, int max, Tokenizer t, String stop) {
        RwkvEvaluator ev = m.newEvaluator();
        float[] logits = new float[m.vocab()];
        ev.step(s, pending, logits);
        for (int id : prompt) {
            ev.step(s, id, logits);
        }
        int[] out = new int[max];
        for (int i = 0; i < max; i++) {
            out[i] = Sampler.argmax(logits, 0, t.vocab());
            if (stop != null && new String(t.decodeBytes(Arrays.copyOf(out, i + 1)), StandardCharsets.ISO_8859_1).contains(stop)) {
                return Arrays.copyOf(out, i + 1);
            }
            ev.step(s, out[i], logits);
        }
        return out;
    }

    /** The reply text the job shows for generated ids: up to the stop text, complete characters only. */
    private static String shown(Tokenizer t, int[] ids, String stop) {
        byte[] b = t.decodeBytes(ids);
        String latin = new String(b, StandardCharsets.ISO_8859_1);
        int n = stop != null && latin.contains(stop) ? latin.indexOf(stop) : b.length;
        StreamingDecoder d = new StreamingDecoder(Tokenizers.named("bytes"));
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            d.push(b[i] & 0xFF, s);
        }
        return s.toString();
    }

    @Test
    void chatOnAWorldModelTokenizesThePromptAndDecodesTheReply() throws IOException {
        List<JsonNode> out = job("generate", world, List.of("{\"s\":\"a\",\"p\":\"Hi there, caf\u00e9 \u2615\"}"),
                "--text-field", "p", "--key-field", "s", "--template", "chat", "--greedy", "--max-tokens", "12");
        assertEquals(1, out.size(), out.toString());
        RwkvModel m = RwkvModel.load(world);
        int[] prompt = WORLD.encode("User: Hi there, caf\u00e9 \u2615\n\nAssistant:");
        int[] ids = greedy(m, m.initialState(), 0, prompt, 12, WORLD, "\n\n");
        JsonNode g = out.get(0);
        assertEquals(prompt.length, g.get("prompt_tokens").asInt());
        assertEquals(ids.length, g.get("tokens").asInt());
        assertEquals(shown(WORLD, ids, "\n\n"), g.get("text").asText(), g.toString());
        assertEquals(ids.length < 12 ? "stop_sequence" : "max_tokens", g.get("stop").asText());
    }

    /**
     * A model whose next token is always {@code id}, whatever it read: the final norm gives a constant vector
     * (weight 0, bias the first unit vector), and the head's row for {@code id} alone is large along it.
     */
    private static Path always(int id, String name) throws IOException {
        return always(world, id, name);
    }

    private static Path always(Path source, int id, String name) throws IOException {
        Path p = dir.resolve(name);
        ModelFile f = ModelFile.open(source);
        try (ModelWriter w = ModelWriter.create(p, f.fileVersion(), f.vocab(), f.embed(), f.layers(), f.mainTypeCode())) {
            for (Tensor t : f.tensors().values()) {
                float[] v = t.toFloats();
                switch (t.name()) {
                    case "ln_out.weight" -> Arrays.fill(v, 0);
                    case "ln_out.bias" -> {
                        Arrays.fill(v, 0);
                        v[0] = 1;
                    }
                    case "head.weight" -> v[id * f.embed()] = 50;
                    default -> {
                        w.write(t);
                        continue;
                    }
                }
                ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                w.write(t.name(), TensorType.FP32, t.shape(), b);
            }
            w.finish();
        }
        return p;
    }

    @Test
    void aChatReplyEndsAtABlankLineWhetherItIsOneTokenOrTwo() throws IOException {
        int newline = WORLD.encode("\n")[0];
        int blank = WORLD.encode("\n\n")[0];
        assertEquals(1, WORLD.encode("\n\n").length);
        String[] chat = {"--text-field", "p", "--key-field", "s", "--template", "chat", "--greedy", "--max-tokens", "9"};
        List<String> prompts = List.of("{\"s\":\"a\",\"p\":\"hello\"}", "{\"s\":\"a\",\"p\":\"again\"}");
        for (int[] c : new int[][] {{newline, 2}, {blank, 1}}) {
            List<JsonNode> out = job("generate", always(c[0], "always-" + c[0] + ".bin"), prompts, chat);
            assertEquals(2, out.size(), out.toString());
            for (JsonNode g : out) {
                assertEquals("stop_sequence", g.get("stop").asText(), g.toString());
                assertEquals(c[1], g.get("tokens").asInt(), g.toString());
                assertEquals("", g.get("text").asText(), g.toString());
            }
        }
    }

    @Test
    void aPaddedModelGeneratesOnlyIdsOfItsTokenizer() throws IOException {
        // vocabulary 50304: the 20B tokenizer's 50277 ids padded; the crafted head favours padding id 50300
        Path padded = dir.resolve("padded.bin");
        RandomModel.write(RandomModel.Shape.of(RwkvVersion.V7, 1, 32, 50304), TensorType.FP32, 3, padded);
        Path model = always(padded, 50300, "padded-always.bin");
        List<JsonNode> out = job("generate", model, List.of("{\"s\":\"a\",\"p\":\"Hello world\"}"),
                "--text-field", "p", "--key-field", "s", "--greedy", "--max-tokens", "5");
        Tokenizer neox = Tokenizers.named("20b");
        RwkvModel m = RwkvModel.load(model);
        int[] ids = greedy(m, m.initialState(), 0, neox.encode("Hello world"), 5, neox, null);
        assertEquals(5, out.get(0).get("tokens").asInt());
        assertEquals(shown(neox, ids, null), out.get(0).get("text").asText());
    }

    @Test
    void aPaddedModelsTopKListsOnlyIdsOfItsTokenizer() throws IOException {
        // vocabulary 50304 whose crafted head favours padding id 50300: the next tokens are the 20B ids the
        // model likes best, with log-probabilities over its whole vocabulary
        Path padded = dir.resolve("padded-topk.bin");
        RandomModel.write(RandomModel.Shape.of(RwkvVersion.V7, 1, 32, 50304), TensorType.FP32, 3, padded);
        Path model = always(padded, 50300, "padded-topk-always.bin");
        List<JsonNode> out = job("enrich", model, List.of("{\"u\":\"x\",\"msg\":\"Hello world\"}"),
                "--text-field", "msg", "--key-field", "u", "--top-k", "3");
        JsonNode next = out.get(0).get("rwkv").get("next");
        Tokenizer neox = Tokenizers.named("20b");
        RwkvModel m = RwkvModel.load(model);
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState s = m.initialState();
        float[] logits = new float[m.vocab()];
        ev.step(s, 0, logits);
        assertEquals(50300, Sampler.argmax(logits, 0, m.vocab()), "the crafted model favours a padding id");
        for (int id : neox.encode("\n")) {
            ev.step(s, id, logits);
        }
        for (int id : neox.encode("Hello world")) {
            ev.step(s, id, logits);
        }
        assertEquals(3, next.size());
        assertEquals(Sampler.argmax(logits, 0, neox.vocab()), next.get(0).get("id").asInt(), next.toString());
        for (JsonNode t : next) {
            assertTrue(t.get("id").asInt() < neox.vocab(), t.toString());
        }
    }

    @Test
    void enrichOnAWorldModelScoresPerTokenAndPerByteAndShowsTheNextTokensText() throws IOException {
        String msg = "disk full on /var \u2014 r\u00e9essayer";
        List<JsonNode> out = job("enrich", world, List.of("{\"u\":\"x\",\"msg\":\"" + msg + "\"}"),
                "--text-field", "msg", "--key-field", "u", "--top-k", "4");
        assertEquals(1, out.size());
        JsonNode r = out.get(0).get("rwkv");
        // the plain way: <0> \n text, the text's tokens scored, then the top-k after it
        RwkvModel m = RwkvModel.load(world);
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState s = m.initialState();
        float[] logits = new float[m.vocab()];
        ev.step(s, 0, logits);
        ev.step(s, WORLD.encode("\n")[0], logits);
        int[] text = WORLD.encode(msg);
        double bits = 0;
        for (int id : text) {
            bits -= (float) LogProbs.of(logits, 0, m.vocab(), id) / Math.log(2);
            ev.step(s, id, logits);
        }
        int bytes = msg.getBytes(StandardCharsets.UTF_8).length;
        assertEquals(text.length, r.get("tokens").asInt());
        assertEquals(bytes, r.get("bytes").asInt());
        assertEquals(bits / text.length, r.get("surprisal_bits").asDouble(), 1e-4);
        assertEquals(bits / bytes, r.get("surprisal_bits_per_byte").asDouble(), 1e-4);
        JsonNode next = r.get("next");
        assertEquals(4, next.size());
        assertEquals(Sampler.argmax(logits, 0, m.vocab()), next.get(0).get("id").asInt());
        for (JsonNode t : next) {
            assertEquals(TokenText.of(WORLD, t.get("id").asInt()), t.get("token").asText(), t.toString());
        }
    }

    @Test
    void scoreLogsOnAWorldModelScoresEachLinesTokens() throws IOException {
        Path base = Files.createTempDirectory(dir, "score-logs");
        List<String> lines = List.of("kernel: eth0 link up", "kernel: eth0 link down — retrying");
        Path in = base.resolve("in.log");
        Files.write(in, lines, StandardCharsets.UTF_8);
        Run r = run("score-logs", "--model", world.toString(), "--input", in.toString(), "--output-dir",
                base.resolve("out").toString(), "--checkpoint-dir", base.resolve("cp").toString(), "--web-ui-port", "-1",
                "--parallelism", "1");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("tokenizer world"), r.out());
        List<JsonNode> out = new ArrayList<>();
        try (var files = Files.list(base.resolve("out"))) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("part")).toList()) {
                for (String l : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                    out.add(JSON.readTree(l));
                }
            }
        }
        out.sort((a, b) -> Long.compare(a.get("offset").asLong(), b.get("offset").asLong()));
        // the plain way: one key's history \n line \n line ..., each line's own tokens scored
        RwkvModel m = RwkvModel.load(world);
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState s = m.initialState();
        float[] logits = new float[m.vocab()];
        int newline = WORLD.encode("\n")[0];
        ev.step(s, newline, logits);
        assertEquals(2, out.size(), out.toString());
        for (int i = 0; i < lines.size(); i++) {
            int[] ids = WORLD.encode(lines.get(i));
            double bits = 0;
            for (int id : ids) {
                bits -= (float) LogProbs.of(logits, 0, m.vocab(), id) / Math.log(2);
                ev.step(s, id, logits);
            }
            ev.step(s, newline, logits);
            assertEquals(ids.length, out.get(i).get("tokens").asInt());
            assertEquals(bits / ids.length, out.get(i).get("mean_bits").asDouble(), 1e-4);
        }
        // eval-logs' offline scorer feeds the same tokens: the same scores
        LineSurprisal[] offline = new RwkvLineScorer(m, WORLD).score(
                lines.stream().map(l -> l.getBytes(StandardCharsets.UTF_8)).toList(), n -> { });
        for (int i = 0; i < lines.size(); i++) {
            assertEquals(offline[i].meanBits(), out.get(i).get("mean_bits").asDouble(), 1e-5);
        }
    }

    @Test
    void tokenTextIsTheTokensTextOrItsBytes() {
        assertEquals("\n\n", TokenText.of(WORLD, WORLD.encode("\n\n")[0]));
        assertEquals(" the", TokenText.of(WORLD, WORLD.encode(" the")[0]));
        int[] split = WORLD.encode("\uD83E\uDD80"); // an emoji World spells in several tokens
        assertTrue(split.length > 1);
        assertTrue(TokenText.of(WORLD, split[0]).startsWith("<0xF0>"), TokenText.of(WORLD, split[0]));
        assertEquals("<0xC3>", TokenText.ofByte(0xC3));
        assertEquals("", TokenText.of(Tokenizers.named("20b"), 50300)); // padding of a 50304 model
    }

    @Test
    void anOfficialCheckpointEvaluatesTheSameAsTextOrAsBytesAndGenerates() throws IOException {
        Path text = dir.resolve("text.txt");
        Files.writeString(text, "The quick brown fox, caf\u00e9.\n", StandardCharsets.UTF_8);
        Run a = run("eval", "--model", PTH.toString(), "--text", text.toString(), "--logprobs", dir.resolve("a.f32").toString());
        Run b = run("eval", "--model", PTH.toString(), "--input", text.toString(), "--logprobs", dir.resolve("b.f32").toString());
        assertEquals(0, a.exit(), a.err());
        assertEquals(0, b.exit(), b.err());
        assertTrue(a.out().contains("bits per byte"), a.out());
        assertArrayEquals(Files.readAllBytes(dir.resolve("b.f32")), Files.readAllBytes(dir.resolve("a.f32")));

        List<JsonNode> out = job("generate", PTH, List.of("{\"s\":\"a\",\"p\":\"Hello\"}"),
                "--text-field", "p", "--key-field", "s", "--greedy", "--max-tokens", "8");
        RwkvModel m = RwkvModel.load(PTH);
        Tokenizer bytes = Tokenizers.named("bytes");
        int[] ids = greedy(m, m.initialState(), 0, bytes.encode("Hello"), 8, bytes, null);
        assertEquals(shown(bytes, ids, null), out.get(0).get("text").asText());
    }

    @Test
    void evalTextOnAWorldModelWritesTheLogProbOfEachNextToken() throws IOException {
        String t = "Flink keeps state per key \u2014 \u00e9t\u00e9 \uD83E\uDD80.";
        Path text = dir.resolve("world.txt");
        Files.writeString(text, t, StandardCharsets.UTF_8);
        Path lp = dir.resolve("world.f32");
        Run r = run("eval", "--model", world.toString(), "--text", text.toString(), "--logprobs", lp.toString());
        assertEquals(0, r.exit(), r.err());
        int[] ids = WORLD.encode(t);
        RwkvModel m = RwkvModel.load(world);
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState s = m.initialState();
        float[] logits = new float[m.vocab()];
        ByteBuffer got = ByteBuffer.wrap(Files.readAllBytes(lp)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(4 * (ids.length - 1), got.remaining());
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) {
                assertEquals((float) LogProbs.of(logits, 0, m.vocab(), ids[i]), got.getFloat(), 0f);
            }
            ev.step(s, ids[i], logits);
        }
        assertTrue(r.out().startsWith(ids.length + " tokens,") && r.out().contains("bits per byte"), r.out());
    }

    @Test
    void aTokenizerTheModelLacksIdsForIsOneLine() {
        for (String[] argv : List.of(
                new String[] {"generate", "--model", PTH.toString(), "--tokenizer", "20b", "--input", "x"},
                new String[] {"eval", "--model", PTH.toString(), "--tokenizer", "20b", "--text", PTH.toString(), "--logprobs", "x"},
                new String[] {"enrich", "--model", PTH.toString(), "--tokenizer", "world", "--text-field", "m", "--input", "x"})) {
            Run r = run(argv);
            assertEquals(1, r.exit(), r.out() + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().contains("tokenizer gives ids up to") && r.err().contains("vocabulary has 256 ids"), r.err());
        }
    }
}
