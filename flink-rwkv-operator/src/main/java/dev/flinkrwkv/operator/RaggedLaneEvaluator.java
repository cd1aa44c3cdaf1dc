package dev.flinkrwkv.operator;

import dev.flinkrwkv.backend.Backend;
import dev.flinkrwkv.backend.Backends;
import dev.flinkrwkv.rwkv.RaggedBatch;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.state.StatePrecision;

/**
 * What scoring and generation share: the backend on the configured device, which evaluates every batch
 * (ragged batches: each key of a batch with its own run of tokens, {@link Backend#step(RaggedBatch)}; on the
 * CPU one pass over the weights for all of them), the batch that is filled per evaluation, the state
 * precision, and the bookkeeping at the end of a record.
 *
 * <p>Not thread-safe; one per operator instance. Buffers grow to the largest batch and are then reused.
 */
abstract class RaggedLaneEvaluator implements LaneEvaluator {
    private static final double LN2 = Math.log(2);

    protected final RwkvModel model;
    protected final Backend backend;
    protected final int vocab;
    protected final StatePrecision precision;
    /** Filled per evaluation; with 16-bit storage it rounds each key's state at its records' ends. */
    protected final RaggedBatch batch = new RaggedBatch();

    RaggedLaneEvaluator(RwkvModel model, RwkvOperatorConfig<?> config) {
        this.model = model;
        this.backend = Backends.open(config.device(), model, config.evaluatorThreads(), config.maxBatchTokens());
        this.precision = config.statePrecision();
        this.vocab = model.vocab();
        if (precision.lossy()) {
            StatePrecision p = precision;
            batch.rounding(p::roundInPlace);
        }
    }

    /**
     * Ends record {@code r} of the lane, whose pending token is already set and whose state is already
     * rounded to the stored precision (after every record, even an empty one, so that a stored state equals
     * the resident one): takes the record's sequence number, counts it with {@code tokensSeen} tokens, and
     * starts its result (key, sequence, tag, token count, mean surprisal in bits per token).
     */
    protected final RwkvResult endRecord(Lane lane, PendingRecord r, int tokensSeen) {
        lane.seq = lane.state.records();
        lane.state.countRecord(tokensSeen);
        int n = r.tokens.length;
        RwkvResult res = new RwkvResult();
        res.setKey(String.valueOf(r.key));
        res.setSeq(lane.seq);
        res.setTag(r.tag);
        res.setTokens(n);
        res.setMeanBits(n > 0 ? -lane.sumLogProb / n / LN2 : Double.NaN);
        return res;
    }

    @Override
    public String device() {
        return backend.name();
    }

    @Override
    public void close() {
        backend.close();
    }
}
