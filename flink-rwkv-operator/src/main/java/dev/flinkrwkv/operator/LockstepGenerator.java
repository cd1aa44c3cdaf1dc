package dev.flinkrwkv.operator;

import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.sample.Sampler;
import dev.flinkrwkv.sample.SplitMix64;
import dev.flinkrwkv.tokenize.Tokenizer;

import java.util.Arrays;

/**
 * Generates a continuation after each record (a prompt) of a batch of lanes, in lock-step like
 * {@link LockstepScorer}: every batched model step advances every lane that is still reading a prompt or
 * still generating, so the weights are read once per step for all keys of the batch.
 *
 * <p>With the pending-token design (see {@link dev.flinkrwkv.state.KeyState}) a prompt of n tokens takes
 * n + 1 steps: the pending token, then the prompt's tokens; the steps' logits score the prompt (its mean
 * surprisal is reported as in scoring), and the last step's logits give the first generated token. Each
 * further step feeds the token just generated. The last generated token becomes the key's pending token, so
 * the key's state then holds the prompt and the whole continuation, a stop sequence included, and the next
 * record continues the conversation from there.
 *
 * <p>Tokens are drawn with {@link Sampler} from the key's own {@link SplitMix64}, whose state lives in the
 * {@link dev.flinkrwkv.state.KeyState} (and in Flink state); one shared generator object is loaded with a
 * key's state before a draw and read back after. So generated tokens are a pure function of (model, key's
 * records in order, options), whatever the batching, and replays after failures are exact.
 *
 * <p>Not thread-safe; one per operator instance. Allocates one result and one token array per record, none
 * per token.
 */
final class LockstepGenerator extends LockstepLoop {
    private final GenerateOptions options;
    private final Sampler sampler;
    private final SplitMix64 rng = new SplitMix64(0);
    /** Tokens are drawn from ids below this: the tokenizer's vocabulary, which a padded model's exceeds. */
    private final int sampleVocab;
    private final StopTexts stopTexts;

    LockstepGenerator(RwkvModel model, RwkvOperatorConfig<?> config) {
        this(model, config, null);
    }

    /** @param tokenizer the operator's tokenizer, or null when records carry ids and none was named */
    LockstepGenerator(RwkvModel model, RwkvOperatorConfig<?> config, Tokenizer tokenizer) {
        super(model, config);
        this.options = config.generate();
        this.sampler = new Sampler(options.sampler());
        this.sampleVocab = tokenizer != null ? Math.min(vocab, tokenizer.vocab()) : vocab;
        this.stopTexts = tokenizer != null ? new StopTexts(tokenizer, options.stopTexts()) : null;
    }

    /** Emits finished records; true when the lane's current record needs another step. */
    @Override
    protected boolean prepare(Lane lane, Emitter out) throws Exception {
        while (!lane.done()) {
            if (!lane.tokensDone) {
                return true;
            }
            out.emit(lane.current(), lane.result);
            lane.advance();
        }
        return false;
    }

    @Override
    protected void select(Lane lane, int row) {
        states[row] = lane.rwkv;
        tokens[row] = nextInput(lane);
    }

    /** The token the lane feeds next: pending token, prompt tokens, then each generated token. */
    private int nextInput(Lane lane) {
        if (lane.generatedCount > 0) {
            return lane.generated[lane.generatedCount - 1];
        }
        return lane.pos == 0 ? lane.state.pendingToken() : lane.current().tokens[lane.pos - 1];
    }

    @Override
    protected void consume(Lane lane, int off) {
        int[] prompt = lane.current().tokens;
        if (lane.generatedCount == 0 && lane.pos < prompt.length) { // the logits predict a prompt token
            lane.sumLogProb += LogProbs.of(logits, off, vocab, prompt[lane.pos]);
            lane.pos++;
            return;
        }
        if (lane.generated == null) {
            lane.generated = new int[options.maxNewTokens()];
        }
        rng.setState(lane.state.rng());
        int token = sampler.sample(logits, off, sampleVocab, rng);
        lane.state.setRng(rng.state());
        lane.generated[lane.generatedCount++] = token;
        if (options.stopLength(lane.generated, lane.generatedCount) > 0
                || stopTexts != null && !stopTexts.isEmpty() && stopTexts.endsWithin(lane.generated, lane.generatedCount)) {
            finish(lane, RwkvResult.STOP_SEQUENCE);
        } else if (lane.generatedCount == options.maxNewTokens()) {
            finish(lane, RwkvResult.MAX_TOKENS);
        }
    }

    /** The record is done: the last generated token is pending; count, round and build the result. */
    private void finish(Lane lane, String stop) {
        PendingRecord r = lane.current();
        lane.state.setPendingToken(lane.generated[lane.generatedCount - 1]);
        RwkvResult res = endRecord(lane, r, r.tokens.length + lane.generatedCount);
        res.setGenerated(Arrays.copyOf(lane.generated, lane.generatedCount));
        res.setStop(stop);
        lane.result = res;
    }
}
