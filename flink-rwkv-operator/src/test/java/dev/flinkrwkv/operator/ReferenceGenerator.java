package dev.flinkrwkv.operator;

import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.sample.Sampler;
import dev.flinkrwkv.sample.SplitMix64;
import dev.flinkrwkv.state.StatePrecision;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What generation must emit, computed the plain way: per key, one unbatched {@code step} per token, the
 * key's text being its prompts and generated continuations in order, from the initial state with token 0
 * pending and a generator seeded from the key.
 */
final class ReferenceGenerator {
    private ReferenceGenerator() {}

    static List<RwkvResult> generate(RwkvModel model, Map<String, List<Long>> byKey, StatePrecision precision,
                                     GenerateOptions options) {
        RwkvEvaluator ev = model.newEvaluator();
        int v = model.vocab();
        float[] logits = new float[v];
        Sampler sampler = new Sampler(options.sampler());
        List<RwkvResult> out = new ArrayList<>();
        for (Map.Entry<String, List<Long>> e : byKey.entrySet()) {
            RwkvState state = model.initialState();
            SplitMix64 rng = new SplitMix64(SplitMix64.seedFor(options.seed(), e.getKey()));
            int pending = 0;
            long seq = 0;
            for (long id : e.getValue()) {
                int[] prompt = TestRecords.tokens(id);
                double sum = 0;
                for (int t : prompt) {
                    ev.step(state, pending, logits);
                    sum += LogProbs.of(logits, 0, v, t);
                    pending = t;
                }
                int[] gen = new int[options.maxNewTokens()];
                int n = 0;
                String stop;
                while (true) {
                    ev.step(state, pending, logits);
                    pending = sampler.sample(logits, 0, v, rng);
                    gen[n++] = pending;
                    if (options.stopLength(gen, n) > 0) {
                        stop = RwkvResult.STOP_SEQUENCE;
                        break;
                    }
                    if (n == options.maxNewTokens()) {
                        stop = RwkvResult.MAX_TOKENS;
                        break;
                    }
                }
                float[] data = state.data();
                for (int j = 0; j < data.length; j++) {
                    data[j] = precision.round(data[j]);
                }
                RwkvResult r = new RwkvResult();
                r.setKey(e.getKey());
                r.setSeq(seq++);
                r.setTag(Long.toString(id));
                r.setTokens(prompt.length);
                r.setMeanBits(prompt.length > 0 ? -sum / prompt.length / Math.log(2) : Double.NaN);
                r.setGenerated(Arrays.copyOf(gen, n));
                r.setStop(stop);
                out.add(r);
            }
        }
        return out;
    }
}
