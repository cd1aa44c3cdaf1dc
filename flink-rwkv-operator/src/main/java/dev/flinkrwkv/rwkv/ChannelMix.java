package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.math.Matrix;
import dev.flinkrwkv.model.ModelFormatException;

/**
 * The channel mix ("FFN") of one layer, for every version: {@code r * (Wv · relu(Wk · xk)^2)}, where r is
 * {@code sigmoid(Wr · xr)} (v4, v5, v6) or 1 (v7, which has no receptance), and xk, xr come from the
 * token shift in the version's form.
 */
final class ChannelMix {
    final float[] lnW;
    final float[] lnB;
    final float[] mixK;
    final float[] mixR;      // null for v7
    final Matrix key;        // C -> F
    final Matrix value;      // F -> C
    final Matrix receptance; // C -> C, null for v7
    final boolean lerpShift; // v4/v5 lerp form, else the v6/v7 add form

    private ChannelMix(float[] lnW, float[] lnB, float[] mixK, float[] mixR, Matrix key, Matrix value,
                       Matrix receptance, boolean lerpShift) {
        this.lnW = lnW;
        this.lnB = lnB;
        this.mixK = mixK;
        this.mixR = mixR;
        this.key = key;
        this.value = value;
        this.receptance = receptance;
        this.lerpShift = lerpShift;
    }

    /** Loads layer {@code i}'s channel mix: mix vectors named {@code mixKName}/{@code mixRName} (null: none). */
    static ChannelMix load(Weights w, int i, int c, String mixKName, String mixRName, boolean lerpShift)
            throws ModelFormatException {
        String p = RwkvModel.prefix(i);
        int f = w.rowsOf(p + "ffn.key.weight", c);
        return new ChannelMix(
                w.vector(p + "ln2.weight", c),
                w.vector(p + "ln2.bias", c),
                w.vector(p + "ffn." + mixKName, c),
                mixRName == null ? null : w.vector(p + "ffn." + mixRName, c),
                w.matrix(p + "ffn.key.weight", c, f),
                w.matrix(p + "ffn.value.weight", f, c),
                mixRName == null ? null : w.matrix(p + "ffn.receptance.weight", c, c),
                lerpShift);
    }
}
