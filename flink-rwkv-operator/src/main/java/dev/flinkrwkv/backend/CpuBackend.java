package dev.flinkrwkv.backend;

import dev.flinkrwkv.rwkv.RaggedBatch;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;

import java.util.Arrays;

/**
 * The CPU backend: the batched {@link RwkvEvaluator} of this thread (ragged passes as they are, bit-exact). Resident slots are plain states on
 * the heap. Sequence mode steps the tokens one by one (computing the head only where logits are asked for).
 */
public final class CpuBackend implements Backend {
    private final RwkvModel model;
    private final RwkvEvaluator evaluator;
    private RwkvState[] slotStates = new RwkvState[0];
    private RwkvState[] gathered = new RwkvState[0];
    private final RwkvState[] one = new RwkvState[1];
    private final int[] oneToken = new int[1];

    public CpuBackend(RwkvModel model) {
        this(model, 1, RwkvEvaluator.DEFAULT_MAX_BATCH_TOKENS);
    }

    /** Matrix products split over {@code threads} threads, at most {@code maxBatchTokens} rows per pass. */
    public CpuBackend(RwkvModel model, int threads, int maxBatchTokens) {
        this.model = model;
        this.evaluator = model.newEvaluator(threads, maxBatchTokens);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public RwkvModel model() {
        return model;
    }

    @Override
    public void step(RaggedBatch batch) {
        evaluator.step(batch);
    }

    @Override
    public void stepBatch(RwkvState[] states, int[] tokens, int batch, float[] logits) {
        evaluator.stepBatch(states, tokens, batch, logits);
    }

    @Override
    public void stepSequence(RwkvState state, int[] tokens, int offset, int count, float[] logits) {
        Sequences.check(model, tokens, offset, count, logits);
        boolean every = logits != null && logits.length >= (long) count * model.vocab();
        float[] last = logits == null || every ? null : logits;
        float[] each = every ? new float[model.vocab()] : null;
        one[0] = state;
        try {
            for (int t = 0; t < count; t++) {
                oneToken[0] = tokens[offset + t];
                float[] out = every ? each : t == count - 1 ? last : null;
                evaluator.stepBatch(one, oneToken, 1, out);
                if (every) {
                    System.arraycopy(each, 0, logits, t * model.vocab(), model.vocab());
                }
            }
        } finally {
            one[0] = null;
        }
    }

    @Override
    public int slots() {
        return slotStates.length;
    }

    @Override
    public void resizeSlots(int count) {
        int old = slotStates.length;
        slotStates = Arrays.copyOf(slotStates, count);
        for (int i = old; i < count; i++) {
            slotStates[i] = model.initialState();
        }
    }

    @Override
    public void writeSlot(int slot, RwkvState state) {
        slotStates[slot].copyFrom(state);
    }

    @Override
    public void readSlot(int slot, RwkvState state) {
        state.copyFrom(slotStates[slot]);
    }

    @Override
    public void stepSlots(int[] slots, int[] tokens, int batch, float[] logits) {
        if (gathered.length < batch) {
            gathered = new RwkvState[batch];
        }
        for (int b = 0; b < batch; b++) {
            gathered[b] = slotStates[slots[b]];
        }
        try {
            evaluator.stepBatch(gathered, tokens, batch, logits);
        } finally {
            Arrays.fill(gathered, 0, batch, null);
        }
    }

    @Override
    public void close() {
        slotStates = new RwkvState[0];
        evaluator.close();
    }
}
