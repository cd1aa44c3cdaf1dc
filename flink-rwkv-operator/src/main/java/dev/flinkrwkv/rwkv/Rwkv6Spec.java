package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.model.RwkvVersion;

import java.util.List;

/**
 * RWKV-6: data-dependent token shift (five low-rank "maa" mixes) and a data-dependent decay (a low-rank
 * correction of {@code time_decay}, stored raw: the evaluator takes exp(-exp) after adding it).
 */
final class Rwkv6Spec extends MultiHeadSpec {
    static final Rwkv6Spec V6 = new Rwkv6Spec();

    private Rwkv6Spec() {
        super(RwkvVersion.V6);
    }

    @Override
    void check(RandomModel.Shape s) {
        super.check(s);
        if (s.maaRank() < 1 || s.decayRank() < 1) {
            throw new IllegalArgumentException("v6 low-rank sizes must be positive");
        }
    }

    @Override
    void attention(List<TensorSpec> out, String p, RandomModel.Shape s, int layer) {
        int c = s.embed(), h = s.heads(), hs = s.headSize(), dm = s.maaRank(), dd = s.decayRank();
        for (String m : new String[] {"x", "w", "k", "v", "r", "g"}) {
            out.add(TensorSpec.mix(p + "time_maa_" + m, c));
        }
        out.add(TensorSpec.lowRank(p + "time_maa_w1", c, 5 * dm));
        out.add(TensorSpec.normal(p + "time_maa_w2", 0.1f / (float) Math.sqrt(dm), dm, c, 5));
        out.add(TensorSpec.uniform(p + "time_decay", -4f, 1f, 1, hs, h));
        out.add(TensorSpec.lowRank(p + "time_decay_w1", c, dd));
        out.add(TensorSpec.lowRank(p + "time_decay_w2", dd, c));
        out.add(TensorSpec.uniform(p + "time_faaaa", -0.5f, 0.5f, 1, hs, h));
        projections(out, p, c, "receptance", "key", "value", "output", "gate");
        groupNorm(out, p, c);
    }

    @Override
    void channelMixShift(List<TensorSpec> out, String p, int c) {
        out.add(TensorSpec.mix(p + "time_maa_k", c));
        out.add(TensorSpec.mix(p + "time_maa_r", c));
    }
}
