package dev.flinkrwkv.operator;

import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.state.StatePrecision;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the operator must emit, computed the plain way: per key, one unbatched {@code step} per token of its
 * records in order, starting from the initial state with the start token 0 pending.
 */
final class ReferenceScorer {
    private ReferenceScorer() {}

    /** Results of every record ({@link TestRecords} ids) of every key, per key in order. */
    static List<RwkvResult> score(RwkvModel model, Map<String, List<Long>> byKey, StatePrecision precision,
                                  boolean logProbs, int topK) {
        RwkvEvaluator ev = model.newEvaluator();
        int v = model.vocab();
        float[] logits = new float[v];
        List<RwkvResult> out = new ArrayList<>();
        for (Map.Entry<String, List<Long>> e : byKey.entrySet()) {
            RwkvState state = model.initialState();
            int pending = 0;
            long seq = 0;
            for (long id : e.getValue()) {
                int[] t = TestRecords.tokens(id);
                float[] lps = new float[t.length];
                double sum = 0;
                for (int j = 0; j < t.length; j++) {
                    ev.step(state, pending, logits);
                    double lp = LogProbs.of(logits, 0, v, t[j]);
                    lps[j] = (float) lp;
                    sum += lp;
                    pending = t[j];
                }
                float[] data = state.data();
                for (int j = 0; j < data.length; j++) {
                    data[j] = precision.round(data[j]);
                }
                RwkvResult r = new RwkvResult();
                r.setKey(e.getKey());
                r.setSeq(seq++);
                r.setTag(Long.toString(id));
                r.setTokens(t.length);
                r.setMeanBits(t.length > 0 ? -sum / t.length / Math.log(2) : Double.NaN);
                if (logProbs) {
                    r.setLogProbs(lps);
                }
                if (topK > 0) {
                    ev.step(state.copy(), pending, logits);
                    setTopK(r, logits, v, topK);
                }
                out.add(r);
            }
        }
        return out;
    }

    private static void setTopK(RwkvResult r, float[] logits, int v, int k) {
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : a - b);
        double lse = LogProbs.logSumExp(logits, 0, v);
        int[] top = new int[k];
        float[] lp = new float[k];
        for (int i = 0; i < k; i++) {
            top[i] = order[i];
            lp[i] = (float) (logits[top[i]] - lse);
        }
        r.setTopTokens(top);
        r.setTopLogProbs(lp);
    }
}
