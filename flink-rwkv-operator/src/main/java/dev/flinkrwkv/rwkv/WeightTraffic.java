package dev.flinkrwkv.rwkv;

/**
 * Weight bytes an evaluator's calls read, for benchmarks: over memory bandwidth this bounds a call's speed.
 * Kept out of {@link RwkvEvaluator}, which it only reads (its pass size and the model's tensors).
 */
public final class WeightTraffic {
    private WeightTraffic() {}

    /**
     * Weight bytes one {@link RwkvEvaluator#stepBatch} of {@code batch} rows reads: every matrix once per
     * pass (the head only with logits), one embedding row per row.
     */
    public static long perBatch(RwkvEvaluator ev, int batch, boolean logits) {
        RwkvModel m = ev.model();
        long passes = (batch + ev.maxBatchTokens() - 1) / ev.maxBatchTokens();
        return passes * (layerAndTopBytes(m) + (logits ? m.head.bytes() : 0)) + batch * embeddingRowBytes(m);
    }

    /** Weight bytes one {@link RwkvEvaluator#stepSequence} of {@code len} tokens reads (the layers once per pass). */
    public static long perSequence(RwkvEvaluator ev, int len, boolean logProbs, boolean lastLogits) {
        RwkvModel m = ev.model();
        int maxBatchTokens = ev.maxBatchTokens();
        long passes = (len + maxBatchTokens - 1) / maxBatchTokens;
        long headPasses = lastLogits ? 1 : 0;
        if (logProbs && len > 1) {
            int perPass = Math.max(1, Math.min(maxBatchTokens, RwkvEvaluator.HEAD_LOGIT_FLOATS / m.vocab));
            for (int start = 0; start < len; start += maxBatchTokens) {
                int predicting = Math.min(maxBatchTokens, len - 1 - start);
                headPasses += predicting > 0 ? (predicting + perPass - 1) / perPass : 0;
            }
        }
        return passes * layerAndTopBytes(m) + headPasses * m.head.bytes() + len * embeddingRowBytes(m);
    }

    private static long embeddingRowBytes(RwkvModel m) {
        return m.emb.bytes() / m.vocab;
    }

    /** Every tensor but the embedding and the head. */
    private static long layerAndTopBytes(RwkvModel m) {
        return m.weightBytesPerToken() - embeddingRowBytes(m) - m.head.bytes();
    }
}
