package dev.flinkrwkv.backend;

import dev.flinkrwkv.rwkv.RwkvModel;

/** Argument checks shared by the backends' sequence mode. */
public final class Sequences {
    private Sequences() {}

    /** Checks {@link Backend#stepSequence}'s arguments, with messages that name the problem. */
    public static void check(RwkvModel model, int[] tokens, int offset, int count, float[] logits) {
        if (count < 1 || offset < 0 || (long) offset + count > tokens.length) {
            throw new IllegalArgumentException("tokens [" + offset + ", " + ((long) offset + count)
                    + ") outside an array of " + tokens.length);
        }
        for (int t = offset; t < offset + count; t++) {
            if (tokens[t] < 0 || tokens[t] >= model.vocab()) {
                throw new IllegalArgumentException("token " + tokens[t] + " outside the vocabulary [0, "
                        + model.vocab() + ")");
            }
        }
        if (logits != null && logits.length < model.vocab()) {
            throw new IllegalArgumentException("logits buffer of " + logits.length + " floats, need at least "
                    + model.vocab());
        }
    }
}
