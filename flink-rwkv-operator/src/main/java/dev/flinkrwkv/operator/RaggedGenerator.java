package dev.flinkrwkv.operator;

import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RaggedBatch;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.sample.Sampler;
import dev.flinkrwkv.sample.SplitMix64;
import dev.flinkrwkv.tokenize.Tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * Generates a continuation after each record (a prompt) of a batch of lanes. Each round is one ragged pass
 * ({@link dev.flinkrwkv.rwkv.RwkvEvaluator#step(RaggedBatch)}) over every lane that still has work: a lane
 * starting a record feeds its whole prompt in that pass, a lane that is generating feeds one token, so the
 * weights are read once per round for all keys of the batch, and a long prompt costs one pass, not one
 * step per token.
 *
 * <p>With the pending-token design (see {@link dev.flinkrwkv.state.KeyState}) a prompt of n tokens takes
 * n + 1 rows: the pending token, then the prompt's tokens; the rows' logits score the prompt (its mean
 * surprisal is reported as in scoring), and the last row's logits give the first generated token. Each
 * further round feeds the token just generated. The last generated token becomes the key's pending token, so
 * the key's state then holds the prompt and the whole continuation, a stop sequence included, and the next
 * record continues the conversation from there (its prompt goes in the round after).
 *
 * <p>Tokens are drawn with {@link Sampler} from the key's own {@link SplitMix64}, whose state lives in the
 * {@link dev.flinkrwkv.state.KeyState} (and in Flink state); one shared generator object is loaded with a
 * key's state before a draw and read back after. So generated tokens are a pure function of (model, key's
 * records in order, options), whatever the batching, and replays after failures are exact.
 *
 * <p>Not thread-safe; one per operator instance. Allocates one result and one token array per record, none
 * per token.
 */
final class RaggedGenerator extends RaggedLaneEvaluator {
    private final GenerateOptions options;
    private final Sampler sampler;
    private final SplitMix64 rng = new SplitMix64(0);
    /** Tokens are drawn from ids below this: the tokenizer's vocabulary, which a padded model's exceeds. */
    private final int sampleVocab;
    private final StopTexts stopTexts;
    /** The lanes in the current round, in batch order. */
    private Lane[] active = new Lane[0];

    RaggedGenerator(RwkvModel model, RwkvOperatorConfig<?> config) {
        this(model, config, null);
    }

    /** @param tokenizer the operator's tokenizer, or null when records carry ids and none was named */
    RaggedGenerator(RwkvModel model, RwkvOperatorConfig<?> config, Tokenizer tokenizer) {
        super(model, config);
        this.options = config.generate();
        this.sampler = new Sampler(options.sampler());
        this.sampleVocab = tokenizer != null ? Math.min(vocab, tokenizer.vocab()) : vocab;
        this.stopTexts = tokenizer != null ? new StopTexts(tokenizer, options.stopTexts()) : null;
    }

    /** @return the rows evaluated */
    @Override
    public long evaluate(List<Lane> lanes, Emitter out) throws Exception {
        if (active.length < lanes.size()) {
            active = new Lane[lanes.size()];
        }
        long work = 0;
        while (true) {
            batch.clear();
            int n = 0;
            for (int i = 0, m = lanes.size(); i < m; i++) {
                Lane lane = lanes.get(i);
                while (!lane.done() && lane.tokensDone) {
                    out.emit(lane.current(), lane.result);
                    lane.advance();
                }
                if (!lane.done()) {
                    active[n++] = lane;
                    addRows(lane);
                }
            }
            if (n == 0) {
                break;
            }
            backend.step(batch);
            work += batch.rows();
            for (int i = 0; i < n; i++) {
                consume(active[i]);
                active[i] = null;
            }
        }
        return work;
    }

    /**
     * The lane's rows of this round: at the start of a record, the pending token and the prompt (each row
     * but the last scoring the next prompt token); else the token generated last. The last row's logits are
     * sampled.
     */
    private void addRows(Lane lane) {
        batch.addKey(lane.rwkv);
        if (lane.generatedCount == 0) {
            int[] prompt = lane.current().tokens;
            lane.pos = batch.rows(); // the prompt's first row
            int prev = lane.state.pendingToken();
            for (int t : prompt) {
                batch.addRow(prev, t);
                prev = t;
            }
            batch.addRow(prev, RaggedBatch.NO_TARGET);
        } else {
            batch.addRow(lane.generated[lane.generatedCount - 1], RaggedBatch.NO_TARGET);
        }
        lane.slot = batch.wantLogits();
    }

    /** After the round: the prompt's log-probs (on its first round), then one sampled token. */
    private void consume(Lane lane) {
        if (lane.generatedCount == 0) {
            int[] prompt = lane.current().tokens;
            double sum = 0;
            for (int i = 0; i < prompt.length; i++) {
                sum += batch.logProb(lane.pos + i);
            }
            lane.sumLogProb = sum;
            lane.generated = new int[options.maxNewTokens()];
        }
        rng.setState(lane.state.rng());
        int token = sampler.sample(batch.logits(), lane.slot * vocab, sampleVocab, rng);
        lane.state.setRng(rng.state());
        lane.generated[lane.generatedCount++] = token;
        if (options.stopLength(lane.generated, lane.generatedCount) > 0
                || stopTexts != null && !stopTexts.isEmpty() && stopTexts.endsWithin(lane.generated, lane.generatedCount)) {
            finish(lane, RwkvResult.STOP_SEQUENCE);
        } else if (lane.generatedCount == options.maxNewTokens()) {
            finish(lane, RwkvResult.MAX_TOKENS);
        }
    }

    /** The record is done: the last generated token is pending; round, count and build the result. */
    private void finish(Lane lane, String stop) {
        PendingRecord r = lane.current();
        lane.state.setPendingToken(lane.generated[lane.generatedCount - 1]);
        precision.roundInPlace(lane.state.data());
        RwkvResult res = endRecord(lane, r, r.tokens.length + lane.generatedCount);
        res.setGenerated(Arrays.copyOf(lane.generated, lane.generatedCount));
        res.setStop(stop);
        lane.result = res;
        lane.tokensDone = true;
    }
}
