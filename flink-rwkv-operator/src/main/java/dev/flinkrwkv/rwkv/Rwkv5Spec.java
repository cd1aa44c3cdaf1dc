package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.model.RwkvVersion;

import java.util.List;

/**
 * RWKV-5.1 and 5.2: per head a decay and a bonus (5.1: one per head, 5.2: one per channel of the head,
 * {@code time_faaaa}), and in 5.2 a gate projection. The files store the decay as exp(-exp(w)) and 5.1's
 * bonus as exp(u).
 */
final class Rwkv5Spec extends MultiHeadSpec {
    static final Rwkv5Spec V5_1 = new Rwkv5Spec(RwkvVersion.V5_1);
    static final Rwkv5Spec V5_2 = new Rwkv5Spec(RwkvVersion.V5_2);

    private Rwkv5Spec(RwkvVersion version) {
        super(version);
    }

    /** 5.2's gate projection and per-channel decay and bonus. */
    boolean gated() {
        return version() == RwkvVersion.V5_2;
    }

    @Override
    void attention(List<TensorSpec> out, String p, RandomModel.Shape s, int layer) {
        int c = s.embed(), h = s.heads(), hs = s.headSize();
        out.add(TensorSpec.mix(p + "time_mix_k", c));
        out.add(TensorSpec.mix(p + "time_mix_v", c));
        out.add(TensorSpec.mix(p + "time_mix_r", c));
        if (gated()) {
            out.add(TensorSpec.mix(p + "time_mix_g", c));
            out.add(TensorSpec.uniform(p + "time_faaaa", -0.5f, 0.5f, 1, hs, h));
            out.add(TensorSpec.uniform(p + "time_decay", -4f, 1f, TensorSpec.Transform.EXP_NEG_EXP, 1, hs, h));
        } else {
            out.add(TensorSpec.uniform(p + "time_first", -1f, 0.5f, TensorSpec.Transform.EXP, 1, 1, h));
            out.add(TensorSpec.uniform(p + "time_decay", -4f, 1f, TensorSpec.Transform.EXP_NEG_EXP, 1, 1, h));
        }
        projections(out, p, c, "key", "value", "receptance", "output");
        if (gated()) {
            projections(out, p, c, "gate");
        }
        groupNorm(out, p, c);
    }
}
