package dev.flinkrwkv.operator;

import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.state.StatePrecision;

/**
 * Scores a batch of lanes (one per key, each with its buffered records) in lock-step: every batched model
 * step takes the next token of every lane that still has one, so all keys share one pass over the weights,
 * while each key's records are fed strictly in order through that key's state.
 *
 * <p>A lane's step for token {@code i} of a record feeds the previous token (the key's pending token for
 * {@code i = 0}) and reads the log-probability of token {@code i} from the logits; after a record the last
 * token becomes the pending token (see {@link dev.flinkrwkv.state.KeyState}). If next-token outputs are
 * asked for, one more step feeds the pending token to a scratch copy of the state, leaving the key's state
 * as it was. With a 16-bit {@link StatePrecision} the state is rounded after each record, so results never
 * depend on whether a state was kept in memory or stored in between.
 *
 * <p>Results are a pure function of the model, the key's records and the options: a lane's row of the
 * batched step does not depend on the other rows (the scorer test checks bit-equality across batch sizes),
 * so how records happen to be batched never changes an output. That is what makes replays exact.
 *
 * <p>Not thread-safe; one per operator instance. Buffers grow to the largest batch and are then reused.
 */
final class LockstepScorer extends LockstepLoop {
    private final boolean emitLogProbs;
    private final boolean emitTopK;
    private final boolean emitLogits;
    private final boolean needsNext;
    private final int topK;

    private float[][] scratch = new float[0][];
    private RwkvState[] scratchStates = new RwkvState[0];

    LockstepScorer(RwkvModel model, RwkvOperatorConfig<?> config) {
        super(model, config);
        this.emitLogProbs = config.emits(ScoreOutput.LOG_PROBS);
        this.emitTopK = config.emits(ScoreOutput.TOP_K);
        this.emitLogits = config.emits(ScoreOutput.LAST_LOGITS);
        this.needsNext = config.needsNextToken();
        this.topK = Math.min(config.topK(), vocab);
    }

    /** The key's own state, or for the next-token step a scratch copy of it; the previous token as input. */
    @Override
    protected void select(Lane lane, int row) {
        if (lane.tokensDone) { // the next-token step, on a scratch copy
            System.arraycopy(lane.state.data(), 0, scratch[row], 0, scratch[row].length);
            states[row] = scratchStates[row];
        } else {
            states[row] = lane.rwkv;
        }
        tokens[row] = lane.pos == 0 || lane.tokensDone ? lane.state.pendingToken() : lane.current().tokens[lane.pos - 1];
    }

    /** Emits what is finished; true when the lane needs a step for its current record. */
    @Override
    protected boolean prepare(Lane lane, Emitter out) throws Exception {
        while (!lane.done()) {
            PendingRecord r = lane.current();
            int n = r.tokens.length;
            if (lane.pos < n) {
                return true;
            }
            if (!lane.tokensDone) {
                foldRecord(lane, r);
            }
            if (needsNext && !lane.nextDone) {
                return true;
            }
            out.emit(r, lane.result);
            lane.advance();
        }
        return false;
    }

    /** All of a record's tokens are scored: update the key's pending token and counters, build the result. */
    private void foldRecord(Lane lane, PendingRecord r) {
        int n = r.tokens.length;
        if (n > 0) {
            lane.state.setPendingToken(r.tokens[n - 1]);
        }
        RwkvResult res = endRecord(lane, r, n);
        if (emitLogProbs) {
            res.setLogProbs(lane.logProbs != null ? lane.logProbs : new float[0]);
        }
        lane.result = res;
    }

    @Override
    protected void consume(Lane lane, int off) {
        if (!lane.tokensDone) {
            int[] t = lane.current().tokens;
            double lp = LogProbs.of(logits, off, vocab, t[lane.pos]);
            lane.sumLogProb += lp;
            if (emitLogProbs) {
                if (lane.logProbs == null) {
                    lane.logProbs = new float[t.length];
                }
                lane.logProbs[lane.pos] = (float) lp;
            }
            lane.pos++;
        } else {
            if (emitTopK) {
                setTopK(lane.result, off);
            }
            if (emitLogits) {
                float[] l = new float[vocab];
                System.arraycopy(logits, off, l, 0, vocab);
                lane.result.setLogits(l);
            }
            lane.nextDone = true;
        }
    }

    /** The k largest logits (ties: lower token first) as tokens and log-probabilities. */
    private void setTopK(RwkvResult res, int off) {
        int[] top = new int[topK];
        float[] lp = new float[topK];
        double lse = LogProbs.logSumExp(logits, off, vocab);
        int filled = 0;
        for (int t = 0; t < vocab; t++) {
            float v = logits[off + t];
            if (filled == topK && v <= logits[off + top[filled - 1]]) {
                continue;
            }
            int at = filled == topK ? topK - 1 : filled++;
            while (at > 0 && logits[off + top[at - 1]] < v) {
                top[at] = top[at - 1];
                at--;
            }
            top[at] = t;
        }
        for (int i = 0; i < topK; i++) {
            lp[i] = (float) (logits[off + top[i]] - lse);
        }
        res.setTopTokens(top);
        res.setTopLogProbs(lp);
    }

    @Override
    protected void grow(int n) {
        if (needsNext) {
            float[][] s = new float[n][];
            RwkvState[] ss = new RwkvState[n];
            for (int i = 0; i < n; i++) {
                s[i] = i < scratch.length ? scratch[i] : new float[model.stateSize()];
                ss[i] = RwkvState.wrap(s[i]);
            }
            scratch = s;
            scratchStates = ss;
        }
    }
}
