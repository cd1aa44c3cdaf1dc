package dev.flinkrwkv.operator;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.state.KeyState;
import dev.flinkrwkv.state.StatePrecision;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The ragged batch scorer (no Flink): its results equal plain per-key stepping, and are bit-identical
 * whatever the batch composition, which is what makes the operator's replays exact.
 */
class RaggedScorerTest {
    private static final int RECORDS = 120;
    private static final int KEYS = 20;

    @ParameterizedTest
    @CsvSource({"4v0-660K-FP32, FLOAT32", "7v0-834K-Q5_1, FLOAT32",
            "4v0-660K-FP32, FLOAT16", "7v0-834K-FP32, BFLOAT16"})
    void batchesOfAnySizeGiveThePlainPerKeyResultsBitForBit(String model, StatePrecision precision) throws Exception {
        RwkvModel m = RwkvModel.load(SharedData.tinyModel("tiny-rwkv-" + model + ".bin"));
        RwkvOperatorConfig<Long> cfg = RwkvOperatorConfig.<Long>builder().model("unused")
                .tokens(TestRecords::tokens).emit(ScoreOutput.LOG_PROBS, ScoreOutput.TOP_K).topK(3)
                .statePrecision(precision).build();
        Map<String, List<RwkvResult>> expected = perKey(ReferenceScorer.score(m,
                TestRecords.byKey(0, RECORDS, KEYS), precision, true, 3));
        Map<String, List<String>> first = null;
        for (int batch : new int[] {1, 7, 64}) {
            Map<String, List<RwkvResult>> got = perKey(runInBatches(m, cfg, batch));
            assertEquals(expected.keySet(), got.keySet());
            for (String key : expected.keySet()) {
                List<RwkvResult> e = expected.get(key);
                List<RwkvResult> g = got.get(key);
                assertEquals(e.size(), g.size(), key);
                for (int i = 0; i < e.size(); i++) {
                    assertClose(e.get(i), g.get(i));
                }
            }
            Map<String, List<String>> lines = lines(got);
            if (first == null) {
                first = lines;
            } else {
                assertEquals(first, lines, "batch " + batch + " vs batch 1, bit for bit");
            }
        }
    }

    /** Feeds records 0..RECORDS in arrival order, {@code batch} at a time, as the operator does. */
    private static List<RwkvResult> runInBatches(RwkvModel m, RwkvOperatorConfig<Long> cfg, int batch) throws Exception {
        RaggedScorer scorer = new RaggedScorer(m, cfg);
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
                lane.attach(states.computeIfAbsent(lane.key, k -> {
                    KeyState s = KeyState.initial(0, "fp");
                    s.setData(m.initialState().data());
                    return s;
                }));
            }
            scorer.evaluate(new ArrayList<>(lanes.values()), (r, res) -> out.add(res));
        }
        return out;
    }

    static void assertClose(RwkvResult e, RwkvResult g) {
        String what = e.getKey() + " #" + e.getSeq();
        assertEquals(e.getKey(), g.getKey());
        assertEquals(e.getSeq(), g.getSeq(), what);
        assertEquals(e.getTag(), g.getTag(), what);
        assertEquals(e.getTokens(), g.getTokens(), what);
        assertEquals(e.getMeanBits(), g.getMeanBits(), 1e-5, what);
        if (e.getLogProbs() != null) {
            assertArrayEquals(e.getLogProbs(), g.getLogProbs(), 1e-5f, what);
        }
        if (e.getTopTokens() != null) {
            assertArrayEquals(e.getTopTokens(), g.getTopTokens(), what);
            assertArrayEquals(e.getTopLogProbs(), g.getTopLogProbs(), 1e-5f, what);
        }
    }

    static Map<String, List<RwkvResult>> perKey(List<RwkvResult> results) {
        Map<String, List<RwkvResult>> m = new LinkedHashMap<>();
        for (RwkvResult r : results) {
            m.computeIfAbsent(r.getKey(), k -> new ArrayList<>()).add(r);
        }
        return m;
    }

    private static Map<String, List<String>> lines(Map<String, List<RwkvResult>> byKey) {
        Map<String, List<String>> m = new HashMap<>();
        byKey.forEach((k, v) -> v.forEach(r -> m.computeIfAbsent(k, x -> new ArrayList<>()).add(r.toString())));
        return m;
    }
}
