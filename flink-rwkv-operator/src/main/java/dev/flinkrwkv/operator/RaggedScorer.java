package dev.flinkrwkv.operator;

import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RaggedBatch;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.state.StatePrecision;
import dev.flinkrwkv.tokenize.Tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * Scores a batch of lanes (one per key, each with its buffered records) in one ragged pass: a key's records
 * are concatenated in order into one run of tokens, and all keys' runs are evaluated together
 * ({@link dev.flinkrwkv.rwkv.RwkvEvaluator#step(RaggedBatch)}: every projection over all the batch's tokens
 * at once, the recurrence per key in order). So one key with many records runs at sequence-mode speed, and
 * many keys share each read of the weights.
 *
 * <p>A record's row for token {@code i} feeds the previous token (the key's pending token for {@code i = 0})
 * and reads the log-probability of token {@code i}; after a record the last token becomes the pending token
 * (see {@link dev.flinkrwkv.state.KeyState}). Next-token outputs (top-k, logits) are the logits of the key's
 * next row when a later record of the batch has one (it feeds the pending token to the record's state);
 * otherwise one more step feeds the pending token to a scratch copy of the state, leaving the key's state
 * as it was. With a 16-bit {@link StatePrecision} the state is rounded at the end of each record (in the
 * pass, before the key's next row reads it), so results never depend on whether a state was kept in memory
 * or stored in between.
 *
 * <p>Results are a pure function of the model, the key's records and the options: a key's rows do not
 * depend on the other keys or on how the pass is cut (the scorer test checks bit-equality across batch
 * sizes), so how records happen to be batched never changes an output. That is what makes replays exact.
 *
 * <p>Not thread-safe; one per operator instance. Buffers grow to the largest batch and are then reused.
 */
final class RaggedScorer extends RaggedLaneEvaluator {
    private final boolean emitLogProbs;
    private final boolean emitTopK;
    private final boolean emitLogits;
    private final boolean needsNext;
    private final int topK;
    /** Top-k candidates are the ids below this: the tokenizer's vocabulary, which a padded model's exceeds. */
    private final int candidates;

    /** Per record of the batch, in lane then record order: its first row; its next-token slot (see below). */
    private int[] firstRow = new int[16];
    private int[] nextSlot = new int[16];
    /** Keys whose last record needs the extra next-token step: scratch copies of their states, the tokens. */
    private RwkvState[] extraSources = new RwkvState[0];
    private RwkvState[] extraStates = new RwkvState[0];
    private int[] extraTokens = new int[0];
    /** The extra step: one row per key, as a ragged batch (its bits do not depend on how many keys it has). */
    private final RaggedBatch extraBatch = new RaggedBatch();
    private static final int PENDING = -1;

    RaggedScorer(RwkvModel model, RwkvOperatorConfig<?> config) {
        this(model, config, null);
    }

    /**
     * @param tokenizer the operator's tokenizer, or null when records carry ids and none was named; top-k
     *     lists only its ids (a padding id has no text), with log-probabilities over the model's whole vocabulary
     */
    RaggedScorer(RwkvModel model, RwkvOperatorConfig<?> config, Tokenizer tokenizer) {
        super(model, config);
        this.emitLogProbs = config.emits(ScoreOutput.LOG_PROBS);
        this.emitTopK = config.emits(ScoreOutput.TOP_K);
        this.emitLogits = config.emits(ScoreOutput.LAST_LOGITS);
        this.needsNext = config.needsNextToken();
        this.candidates = tokenizer != null ? Math.min(vocab, tokenizer.vocab()) : vocab;
        this.topK = Math.min(config.topK(), candidates);
    }

    /**
     * Next-token slots: {@code s >= 0} is slot s of the ragged batch's logits; {@code -2 - e} is row e of the
     * extra step's logits.
     */
    @Override
    public long evaluate(List<Lane> lanes, Emitter out) throws Exception {
        batch.clear();
        int rec = 0, extras = 0;
        for (Lane lane : lanes) {
            batch.addKey(lane.rwkv);
            int prev = lane.state.pendingToken();
            int waiting = rec; // records from here on wait for the key's next row's logits
            for (PendingRecord r : lane.records) {
                grow(rec + 1);
                int[] t = r.tokens;
                firstRow[rec] = batch.rows();
                nextSlot[rec] = PENDING;
                if (t.length == 0 && !batch.keyHasRows()) {
                    // an empty record before any row: its end rounds the state now, as it stands
                    precision.roundInPlace(lane.state.data());
                }
                for (int i = 0; i < t.length; i++) {
                    batch.addRow(prev, t[i]);
                    prev = t[i];
                    if (i == 0 && needsNext && waiting < rec) {
                        int slot = batch.wantLogits();
                        Arrays.fill(nextSlot, waiting, rec, slot);
                    }
                }
                if (t.length > 0) {
                    batch.endRecord();
                    waiting = rec;
                }
                rec++;
            }
            if (needsNext && waiting < rec) {
                int e = extras++;
                growExtra(extras);
                extraTokens[e] = prev;
                extraSources[e] = lane.rwkv; // copied after the pass, when the key's state is final
                Arrays.fill(nextSlot, waiting, rec, -2 - e);
            }
        }
        backend.step(batch);
        if (extras > 0) {
            extraBatch.clear();
            for (int e = 0; e < extras; e++) {
                extraStates[e].copyFrom(extraSources[e]);
                extraSources[e] = null;
                extraBatch.addKey(extraStates[e]);
                extraBatch.addRow(extraTokens[e], RaggedBatch.NO_TARGET);
                extraBatch.wantLogits(); // slot e
            }
            backend.step(extraBatch);
        }
        rec = 0;
        for (Lane lane : lanes) {
            for (PendingRecord r : lane.records) {
                out.emit(r, result(lane, r, firstRow[rec], nextSlot[rec]));
                rec++;
            }
        }
        return batch.rows() + extras;
    }

    /** Record {@code r}'s result from its rows' log-probs and its next-token logits. */
    private RwkvResult result(Lane lane, PendingRecord r, int row, int slot) {
        int n = r.tokens.length;
        float[] lps = emitLogProbs ? new float[n] : null;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double lp = batch.logProb(row + i);
            sum += lp;
            if (lps != null) {
                lps[i] = (float) lp;
            }
        }
        lane.sumLogProb = sum;
        if (n > 0) {
            lane.state.setPendingToken(r.tokens[n - 1]);
        }
        RwkvResult res = endRecord(lane, r, n);
        if (lps != null) {
            res.setLogProbs(lps);
        }
        if (needsNext) {
            float[] logits = slot >= 0 ? batch.logits() : extraBatch.logits();
            int off = (slot >= 0 ? slot : -2 - slot) * vocab;
            if (emitTopK) {
                setTopK(res, logits, off);
            }
            if (emitLogits) {
                res.setLogits(Arrays.copyOfRange(logits, off, off + vocab));
            }
        }
        return res;
    }

    /** The k largest logits (ties: lower token first) as tokens and log-probabilities. */
    private void setTopK(RwkvResult res, float[] logits, int off) {
        int[] top = new int[topK];
        float[] lp = new float[topK];
        double lse = LogProbs.logSumExp(logits, off, vocab);
        int filled = 0;
        for (int t = 0; t < candidates; t++) {
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

    private void grow(int records) {
        if (records > firstRow.length) {
            firstRow = Arrays.copyOf(firstRow, records * 2);
            nextSlot = Arrays.copyOf(nextSlot, records * 2);
        }
    }

    private void growExtra(int n) {
        if (n > extraTokens.length) {
            int m = Math.max(n, extraTokens.length * 2);
            extraSources = Arrays.copyOf(extraSources, m);
            extraTokens = Arrays.copyOf(extraTokens, m);
            RwkvState[] s = Arrays.copyOf(extraStates, m);
            for (int i = extraStates.length; i < m; i++) {
                s[i] = model.initialState();
            }
            extraStates = s;
        }
    }
}
