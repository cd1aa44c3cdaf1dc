package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.model.RwkvVersion;

import java.util.List;

/**
 * RWKV-4: per channel a WKV numerator, denominator and running maximum exponent. A layer's state is 5
 * C-vectors: the two token-shift slots, then {@code aa}, {@code bb}, {@code pp}; rwkv.cpp starts
 * {@code pp} at -1e30.
 */
final class Rwkv4Spec extends RwkvSpec {
    static final Rwkv4Spec V4 = new Rwkv4Spec();
    /** State slots of the WKV numerator, denominator and maximum exponent, in units of C. */
    static final int AA = 2, BB = 3, PP = 4;
    /** rwkv.cpp's initial value of {@code pp}. */
    static final float PP_INITIAL = -1e30f;

    private Rwkv4Spec() {
        super(RwkvVersion.V4);
    }

    @Override
    public int stateVectorsPerLayer(int headSize) {
        return 5;
    }

    @Override
    public void initialState(float[] state, int embed, int layers, int headSize) {
        for (int i = 0; i < layers; i++) {
            int at = (i * 5 + PP) * embed;
            java.util.Arrays.fill(state, at, at + embed, PP_INITIAL);
        }
    }

    @Override
    void attention(List<TensorSpec> out, String p, RandomModel.Shape s, int layer) {
        int c = s.embed();
        out.add(TensorSpec.mix(p + "time_mix_k", c));
        out.add(TensorSpec.mix(p + "time_mix_v", c));
        out.add(TensorSpec.mix(p + "time_mix_r", c));
        out.add(TensorSpec.uniform(p + "time_first", -1f, 1f, c));
        out.add(TensorSpec.uniform(p + "time_decay", -4f, 1f, TensorSpec.Transform.NEG_EXP, c));
        projections(out, p, c, "key", "value", "receptance", "output");
    }
}
