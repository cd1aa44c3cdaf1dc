package dev.flinkrwkv.operator;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.sample.SamplerOptions;
import dev.flinkrwkv.state.KeyState;
import dev.flinkrwkv.state.StatePrecision;
import dev.flinkrwkv.sample.SplitMix64;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ragged batch generator (no Flink): its results equal a plain per-key loop of evaluator and sampler, bit
 * for bit whatever the batch composition, conversations continue from the generated text, and generation
 * stops at a stop sequence or the token limit.
 */
class RaggedGeneratorTest {
    private static final int RECORDS = 60;
    private static final int KEYS = 12;

    private static RwkvModel model(String name) throws Exception {
        return RwkvModel.load(SharedData.tinyModel("tiny-rwkv-" + name + ".bin"));
    }

    @ParameterizedTest
    @CsvSource({"4v0-660K-FP32, FLOAT32, 0.9, 20, 0.95", "4v0-660K-FP32, FLOAT32, 0, 0, 1",
            "7v0-834K-Q5_1, FLOAT16, 1.2, 0, 0.9"})
    void batchesOfAnySizeGenerateWhatThePlainLoopDoes(String name, StatePrecision precision, double temperature,
                                                        int topK, double topP) throws Exception {
        RwkvModel m = model(name);
        GenerateOptions opts = GenerateOptions.defaults().maxNewTokens(6).seed(7)
                .sampler(new SamplerOptions(temperature, topK, topP));
        List<RwkvResult> expected = ReferenceGenerator.generate(m, TestRecords.byKey(0, RECORDS, KEYS), precision, opts);
        Map<String, List<String>> want = lines(expected);
        for (int batch : new int[] {1, 7, 64}) {
            assertEquals(want, lines(runInBatches(m, opts, precision, batch)), "batch " + batch);
        }
    }

    @Test
    void stopsAtAStopSequenceOrTheTokenLimit() throws Exception {
        RwkvModel m = model("4v0-660K-FP32");
        GenerateOptions free = GenerateOptions.defaults().maxNewTokens(12)
                .sampler(SamplerOptions.temperature(1.5)).seed(3);
        RwkvResult first = runInBatches(m, free, StatePrecision.FLOAT32, 64).get(0);
        assertEquals(RwkvResult.MAX_TOKENS, first.getStop());
        int[] g = first.getGenerated();
        assertEquals(12, g.length);
        // stop at two tokens that were generated: generation ends right after their first occurrence
        int[] stop = Arrays.copyOfRange(g, 4, 6);
        int end = 2;
        while (!Arrays.equals(g, end - 2, end, stop, 0, 2)) {
            end++;
        }
        RwkvResult stopped = runInBatches(m, free.stopAt(999_999).stopAt(stop), StatePrecision.FLOAT32, 64).get(0);
        assertEquals(RwkvResult.STOP_SEQUENCE, stopped.getStop());
        assertArrayEquals(Arrays.copyOf(g, end), stopped.getGenerated());
        assertEquals(first.getMeanBits(), stopped.getMeanBits());
        assertTrue(end <= 6);
    }

    @Test
    void theKeyStateHoldsPromptAndContinuation() throws Exception {
        RwkvModel m = model("4v0-660K-FP32");
        GenerateOptions opts = GenerateOptions.defaults().maxNewTokens(5).sampler(SamplerOptions.temperature(1)).seed(1);
        RaggedGenerator gen = new RaggedGenerator(m, config(opts, StatePrecision.FLOAT32));
        KeyState s = fresh(m, opts, "k");
        Lane lane = new Lane("k");
        lane.records.add(new PendingRecord("k", new int[] {72, 105}, "t", PendingRecord.NO_TIMESTAMP));
        lane.attach(s);
        List<RwkvResult> out = new ArrayList<>();
        gen.evaluate(List.of(lane), (r, res) -> out.add(res));
        int[] g = out.get(0).getGenerated();
        assertEquals(g[g.length - 1], s.pendingToken(), "the last generated token is pending");
        assertEquals(1, s.records());
        assertEquals(2 + g.length, s.tokens());
        // the state equals plain stepping through 0, the prompt and the continuation but its last token
        dev.flinkrwkv.rwkv.RwkvState plain = m.initialState();
        float[] logits = new float[m.vocab()];
        int[] text = {0, 72, 105};
        for (int t : text) {
            m.newEvaluator().step(plain, t, logits);
        }
        dev.flinkrwkv.rwkv.RwkvEvaluator ev = m.newEvaluator();
        for (int i = 0; i < g.length - 1; i++) {
            ev.step(plain, g[i], logits);
        }
        assertArrayEquals(plain.data(), s.data());
        SplitMix64 rng = new SplitMix64(SplitMix64.seedFor(1, "k"));
        for (int i = 0; i < g.length; i++) {
            rng.nextLong(); // one draw per sampled token
        }
        assertEquals(rng.state(), s.rng());
    }

    private static RwkvOperatorConfig<Long> config(GenerateOptions opts, StatePrecision precision) {
        return RwkvOperatorConfig.<Long>builder().model("unused").tokens(TestRecords::tokens)
                .statePrecision(precision).generate(opts).build();
    }

    /** A new key's state, as the operator makes it. */
    private static KeyState fresh(RwkvModel m, GenerateOptions opts, String key) {
        KeyState s = KeyState.initial(0, "fp");
        s.setData(m.initialState().data());
        s.setRng(SplitMix64.seedFor(opts.seed(), key));
        return s;
    }

    /** Feeds records 0..RECORDS in arrival order, {@code batch} at a time, as the operator does. */
    private static List<RwkvResult> runInBatches(RwkvModel m, GenerateOptions opts, StatePrecision precision,
                                                 int batch) throws Exception {
        RaggedGenerator gen = new RaggedGenerator(m, config(opts, precision));
        Map<Object, KeyState> states = new HashMap<>();
        List<RwkvResult> out = new ArrayList<>();
        for (long from = 0; from < RECORDS; from += batch) {
            Map<Object, Lane> lanes = new LinkedHashMap<>();
            for (long i = from; i < Math.min(RECORDS, from + batch); i++) {
                String key = TestRecords.key(i, KEYS);
                lanes.computeIfAbsent(key, Lane::new).records
                        .add(new PendingRecord(key, TestRecords.tokens(i), Long.toString(i), PendingRecord.NO_TIMESTAMP));
            }
            for (Lane lane : lanes.values()) {
                lane.attach(states.computeIfAbsent(lane.key, k -> fresh(m, opts, (String) k)));
            }
            gen.evaluate(new ArrayList<>(lanes.values()), (r, res) -> out.add(res));
        }
        return out;
    }

    private static Map<String, List<String>> lines(List<RwkvResult> results) {
        Map<String, List<String>> m = new HashMap<>();
        results.forEach(r -> m.computeIfAbsent(r.getKey(), x -> new ArrayList<>()).add(r.toString()));
        return m;
    }
}
