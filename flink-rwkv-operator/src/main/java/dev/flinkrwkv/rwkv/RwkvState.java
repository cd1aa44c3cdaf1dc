package dev.flinkrwkv.rwkv;

import java.util.Arrays;

/**
 * The recurrent state of one sequence, in rwkv.cpp's flat float32 layout, so that states can be exchanged
 * with rwkv.cpp ({@code rwkv_eval}'s state buffer).
 *
 * <p>Layer i starts at float {@code i * P * C}, where C is the embedding size and P the number of C-vectors
 * per layer: 5 for v4, {@code 2 + S} (S = head size) for v5, v6 and v7. Inside a layer:
 * <ul>
 *   <li>{@code ffn_xx} at 0 (C): the channel mix's normalized input of the previous token (first!);
 *   <li>{@code att_xx} at C (C): the time mix's normalized input of the previous token;
 *   <li>v4: {@code aa}, {@code bb}, {@code pp} at 2C, 3C, 4C (C each): WKV numerator, denominator, max exponent;
 *   <li>v5/v6/v7: H matrices of S x S at 2C, head h at {@code h*S*S}, element [row][col] at {@code row*S + col}.
 *       v5/v6 rows are key channels and columns value channels; v7 rows are value channels, columns keys.
 * </ul>
 */
public final class RwkvState {
    private final float[] data;

    RwkvState(float[] data) {
        this.data = data;
    }

    /** Wraps a flat state (not copied): it must have the model's {@link RwkvModel#stateSize()} floats. */
    public static RwkvState wrap(float[] data) {
        return new RwkvState(data);
    }

    /** The flat float32 buffer, live (the evaluator updates it in place). */
    public float[] data() {
        return data;
    }

    public int size() {
        return data.length;
    }

    public RwkvState copy() {
        return new RwkvState(data.clone());
    }

    /** Overwrites this state with {@code other}'s values. */
    public void copyFrom(RwkvState other) {
        if (other.data.length != data.length) {
            throw new IllegalArgumentException("state sizes differ: " + other.data.length + " vs " + data.length);
        }
        System.arraycopy(other.data, 0, data, 0, data.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RwkvState && Arrays.equals(data, ((RwkvState) o).data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data);
    }
}
