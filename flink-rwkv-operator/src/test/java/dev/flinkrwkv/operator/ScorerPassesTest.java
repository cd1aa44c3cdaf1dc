package dev.flinkrwkv.operator;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.state.KeyState;
import dev.flinkrwkv.state.StatePrecision;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The scorer's ragged passes: a batch whose records are mostly one key's (as with skewed keys), cut into
 * passes of a few tokens (so a key, and a record, are split across passes) and split over two threads, gives
 * the same results, bit for bit, as one key per batch with the default cap, and as plain per-key stepping.
 */
@Timeout(300)
class ScorerPassesTest {
    private static final int RECORDS = 90;

    @ParameterizedTest
    @CsvSource({"4v0-660K-FP32, FLOAT16", "7v0-834K-FP16, BFLOAT16", "6v0-1m-FP32, FLOAT32"})
    void passesOfAnySizeGiveTheSameBits(String model, StatePrecision precision) throws Exception {
        RwkvModel m = RwkvModel.load(SharedData.allModels().stream()
                .filter(p -> SharedData.stem(p).equals("tiny-rwkv-" + model)).findFirst().orElseThrow());
        Map<String, List<RwkvResult>> expected = RaggedScorerTest.perKey(ReferenceScorer.score(m,
                skewed(), precision, true, 2));
        Map<String, List<String>> first = null;
        for (int[] shape : new int[][] {{1, 256, 1}, {64, 3, 2}, {90, 17, 1}, {7, 1, 2}}) {
            RwkvOperatorConfig<Long> cfg = RwkvOperatorConfig.<Long>builder().model("unused")
                    .tokens(TestRecords::tokens).emit(ScoreOutput.LOG_PROBS, ScoreOutput.TOP_K).topK(2)
                    .statePrecision(precision).maxBatchTokens(shape[1]).evaluatorThreads(shape[2]).build();
            Map<String, List<RwkvResult>> got = RaggedScorerTest.perKey(run(m, cfg, shape[0]));
            String what = "batch " + shape[0] + ", cap " + shape[1] + ", threads " + shape[2];
            assertEquals(expected.keySet(), got.keySet(), what);
            Map<String, List<String>> lines = new HashMap<>();
            for (String key : expected.keySet()) {
                List<RwkvResult> e = expected.get(key);
                List<RwkvResult> g = got.get(key);
                assertEquals(e.size(), g.size(), what + ", " + key);
                for (int i = 0; i < e.size(); i++) {
                    RaggedScorerTest.assertClose(e.get(i), g.get(i));
                    lines.computeIfAbsent(key, k -> new ArrayList<>()).add(g.get(i).toString());
                }
            }
            if (first == null) {
                first = lines;
            } else {
                assertEquals(first, lines, what + " vs the first shape, bit for bit");
            }
        }
    }

    /** Record i's key: k0 for two records in three, else one of five others. */
    private static String key(long i) {
        return i % 3 != 2 ? "k0" : TestRecords.key(i, 5) + "x";
    }

    private static Map<String, List<Long>> skewed() {
        Map<String, List<Long>> m = new LinkedHashMap<>();
        for (long i = 0; i < RECORDS; i++) {
            m.computeIfAbsent(key(i), k -> new ArrayList<>()).add(i);
        }
        return m;
    }

    private static List<RwkvResult> run(RwkvModel m, RwkvOperatorConfig<Long> cfg, int batch) throws Exception {
        List<RwkvResult> out = new ArrayList<>();
        Map<Object, KeyState> states = new HashMap<>();
        try (RaggedScorer scorer = new RaggedScorer(m, cfg)) {
            for (long from = 0; from < RECORDS; from += batch) {
                Map<Object, Lane> lanes = new LinkedHashMap<>();
                for (long i = from; i < Math.min(RECORDS, from + batch); i++) {
                    String key = key(i);
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
        }
        return out;
    }
}
