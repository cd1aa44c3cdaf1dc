package dev.flinkrwkv.operator;

import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.sample.Sampler;
import dev.flinkrwkv.sample.SplitMix64;
import dev.flinkrwkv.state.StatePrecision;

import java.util.Arrays;
import java.util.List;

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
final class LockstepGenerator implements LaneEvaluator {
    private static final double LN2 = Math.log(2);

    private final RwkvEvaluator evaluator;
    private final int vocab;
    private final StatePrecision precision;
    private final GenerateOptions options;
    private final Sampler sampler;
    private final SplitMix64 rng = new SplitMix64(0);

    private RwkvState[] states = new RwkvState[0];
    private int[] tokens = new int[0];
    private Lane[] slots = new Lane[0];
    private float[] logits = new float[0];

    LockstepGenerator(RwkvModel model, RwkvOperatorConfig<?> config) {
        this.evaluator = model.newEvaluator();
        this.vocab = model.vocab();
        this.precision = config.statePrecision();
        this.options = config.generate();
        this.sampler = new Sampler(options.sampler());
    }

    @Override
    public long evaluate(List<Lane> lanes, Emitter out) throws Exception {
        ensureCapacity(lanes.size());
        long work = 0;
        while (true) {
            int n = 0;
            for (int i = 0, m = lanes.size(); i < m; i++) {
                Lane lane = lanes.get(i);
                if (prepare(lane, out)) {
                    slots[n] = lane;
                    states[n] = lane.rwkv;
                    tokens[n] = nextInput(lane);
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

    /** Emits finished records; true when the lane's current record needs another step. */
    private boolean prepare(Lane lane, Emitter out) throws Exception {
        while (!lane.done()) {
            if (!lane.tokensDone) {
                return true;
            }
            out.emit(lane.current(), lane.result);
            lane.advance();
        }
        return false;
    }

    /** The token the lane feeds next: pending token, prompt tokens, then each generated token. */
    private int nextInput(Lane lane) {
        if (lane.generatedCount > 0) {
            return lane.generated[lane.generatedCount - 1];
        }
        return lane.pos == 0 ? lane.state.pendingToken() : lane.current().tokens[lane.pos - 1];
    }

    private void consume(Lane lane, int off) {
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
        int token = sampler.sample(logits, off, vocab, rng);
        lane.state.setRng(rng.state());
        lane.generated[lane.generatedCount++] = token;
        if (options.stopLength(lane.generated, lane.generatedCount) > 0) {
            finish(lane, RwkvResult.STOP_SEQUENCE);
        } else if (lane.generatedCount == options.maxNewTokens()) {
            finish(lane, RwkvResult.MAX_TOKENS);
        }
    }

    /** The record is done: the last generated token is pending; count, round and build the result. */
    private void finish(Lane lane, String stop) {
        PendingRecord r = lane.current();
        int n = r.tokens.length;
        lane.state.setPendingToken(lane.generated[lane.generatedCount - 1]);
        precision.roundInPlace(lane.state.data());
        lane.seq = lane.state.records();
        lane.state.countRecord(n + lane.generatedCount);
        lane.tokensDone = true;
        RwkvResult res = new RwkvResult();
        res.setKey(String.valueOf(r.key));
        res.setSeq(lane.seq);
        res.setTag(r.tag);
        res.setTokens(n);
        res.setMeanBits(n > 0 ? -lane.sumLogProb / n / LN2 : Double.NaN);
        res.setGenerated(Arrays.copyOf(lane.generated, lane.generatedCount));
        res.setStop(stop);
        lane.result = res;
    }

    private void ensureCapacity(int lanes) {
        if (lanes <= slots.length) {
            return;
        }
        int n = Math.max(lanes, slots.length * 2);
        states = new RwkvState[n];
        tokens = new int[n];
        slots = new Lane[n];
        logits = new float[n * vocab];
    }
}
