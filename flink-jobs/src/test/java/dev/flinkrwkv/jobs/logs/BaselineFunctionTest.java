package dev.flinkrwkv.jobs.logs;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BaselineFunctionTest {
    @Test
    void keepsOneBaselinePerKeyAndAgreesWithTheOfflinePath() throws Exception {
        AnomalyDetector detector = new AnomalyDetector(0.1, 3, 2.0, 0.05);
        Random r = new Random(5);
        String[] keys = {"a", "b", "a", "a", "b", "a", "b", "b", "a", "a", "b", "a"};
        float[][] lps = new float[keys.length][];
        for (int i = 0; i < keys.length; i++) {
            lps[i] = new float[3 + r.nextInt(5)];
            for (int t = 0; t < lps[i].length; t++) {
                lps[i][t] = (float) -(r.nextDouble() * (i == 9 ? 9 : 2));
            }
        }
        List<LineScore> streamed;
        try (KeyedOneInputStreamOperatorTestHarness<String, LineTokens, LineScore> h =
                     ProcessFunctionTestHarnesses.forKeyedProcessFunction(new BaselineFunction(detector), l -> l.key, Types.STRING)) {
            for (int i = 0; i < keys.length; i++) {
                h.processElement(new LineTokens(keys[i], "logs", 0, i, lps[i]), i);
            }
            streamed = h.extractOutputValues();
        }
        // Offline: the same detector and aggregation, one baseline per key.
        Map<String, Baseline> baselines = new HashMap<>();
        for (int i = 0; i < keys.length; i++) {
            LineScore want = detector.score(keys[i], "logs", 0, i, LineSurprisal.fromLogProbs(lps[i], 0, lps[i].length),
                    baselines.computeIfAbsent(keys[i], k -> new Baseline()));
            assertEquals(want.toJson(), streamed.get(i).toJson());
        }
        assertEquals(6, streamed.get(11).baselineLines); // the 7th line of key a saw 6 before it
    }
}
