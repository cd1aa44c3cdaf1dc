package dev.flinkrwkv.operator;

import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.state.StatePrecision;

import java.util.List;

/**
 * The lock-step loop that scoring and generation share: while any lane needs a step, gather one input
 * token and one state per such lane, advance them all with one batched model step (one pass over the
 * weights for the whole batch), and hand each lane its row of logits. What a lane needs, feeds and does
 * with its logits is the subclass's.
 *
 * <p>Not thread-safe; one per operator instance. Buffers grow to the largest batch and are then reused.
 */
abstract class LockstepLoop implements LaneEvaluator {
    private static final double LN2 = Math.log(2);

    protected final RwkvModel model;
    protected final RwkvEvaluator evaluator;
    protected final int vocab;
    private final StatePrecision precision;

    /** Per batch row: the state it advances and the token it feeds (set by {@link #select}). */
    protected RwkvState[] states = new RwkvState[0];
    protected int[] tokens = new int[0];
    /** Logits of the last step, {@code vocab} per row. */
    protected float[] logits = new float[0];
    private Lane[] slots = new Lane[0];

    LockstepLoop(RwkvModel model, RwkvOperatorConfig<?> config) {
        this.model = model;
        this.evaluator = model.newEvaluator(config.evaluatorThreads());
        this.precision = config.statePrecision();
        this.vocab = model.vocab();
    }

    /**
     * Ends record {@code r} of the lane, whose pending token is already set: rounds the state to the stored
     * precision (after every record, even an empty one, so that a stored state equals the resident one;
     * rounding is idempotent), takes the record's sequence number, counts it with {@code tokensSeen} tokens,
     * and starts its result (key, sequence, tag, token count, mean surprisal in bits per token).
     */
    protected final RwkvResult endRecord(Lane lane, PendingRecord r, int tokensSeen) {
        precision.roundInPlace(lane.state.data());
        lane.seq = lane.state.records();
        lane.state.countRecord(tokensSeen);
        lane.tokensDone = true;
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
    public void close() {
        evaluator.close();
    }

    /** @return the number of lane-steps taken */
    @Override
    public final long evaluate(List<Lane> lanes, Emitter out) throws Exception {
        ensureCapacity(lanes.size());
        long work = 0;
        while (true) {
            int n = 0;
            for (int i = 0, m = lanes.size(); i < m; i++) {
                Lane lane = lanes.get(i);
                if (prepare(lane, out)) {
                    slots[n] = lane;
                    select(lane, n);
                    n++;
                }
            }
            if (n == 0) {
                break;
            }
            evaluator.stepBatch(states, tokens, n, logits);
            work += n;
            for (int b = 0; b < n; b++) {
                consume(slots[b], b * vocab);
                slots[b] = null;
                states[b] = null;
            }
        }
        return work;
    }

    /** Emits what the lane has finished; true when its current record needs another step. */
    protected abstract boolean prepare(Lane lane, Emitter out) throws Exception;

    /** Sets {@code states[row]} and {@code tokens[row]} for the lane's next step. */
    protected abstract void select(Lane lane, int row);

    /** Takes the lane's logits (at {@code off} in {@link #logits}) after the step. */
    protected abstract void consume(Lane lane, int off);

    private void ensureCapacity(int lanes) {
        if (lanes <= slots.length) {
            return;
        }
        int n = Math.max(lanes, slots.length * 2);
        states = new RwkvState[n];
        tokens = new int[n];
        slots = new Lane[n];
        logits = new float[n * vocab];
        grow(n);
    }

    /** Grows any per-row buffers of the subclass to {@code rows}. */
    protected void grow(int rows) {
    }
}
