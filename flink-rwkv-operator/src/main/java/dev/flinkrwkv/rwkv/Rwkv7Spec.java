package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.model.RwkvVersion;

import java.util.List;

/**
 * RWKV-7: the six token-shift vectors in one tensor ({@code x_rwkvag}, slabs r, w, k, v, a, g), low-rank
 * projections of the decay (w), the in-context learning rate (a), the gate (g) and, from layer 1 on, the
 * value residual (v); the key normalization ({@code k_k}, {@code k_a}) and the bonus ({@code r_k}, one
 * value per channel of each head). The state's head matrices have value channels as rows, key channels as
 * columns. The channel mix has one token-shift vector and no receptance.
 */
public final class Rwkv7Spec extends MultiHeadSpec {
    static final Rwkv7Spec V7 = new Rwkv7Spec();
    /** Slabs of att.x_rwkvag, in order. */
    public static final int R = 0, W = 1, K = 2, V = 3, A = 4, G = 5, MIXES = 6;
    /** The low-rank matrices and r_k, which rwkv.cpp's quantizer keeps unquantized. */
    private static final List<String> NOT_QUANTIZED = List.of(
            "att.v1", "att.v2", "att.g1", "att.g2", "att.a1", "att.a2", "att.w1", "att.w2", "att.r_k");

    private Rwkv7Spec() {
        super(RwkvVersion.V7);
    }

    @Override
    public boolean keepsUnquantized(String tensorName) {
        for (String s : NOT_QUANTIZED) {
            if (tensorName.contains(s)) {
                return true;
            }
        }
        return false;
    }

    @Override
    void check(RandomModel.Shape s) {
        super.check(s);
        if (s.rankW() < 1 || s.rankA() < 1 || s.rankV() < 1 || s.rankG() < 1) {
            throw new IllegalArgumentException("v7 low-rank sizes must be positive");
        }
    }

    /** Whether a layer has the value residual (v0, v1, v2): every layer but the first, which sets it. */
    public static boolean hasValueResidual(int layer) {
        return layer > 0;
    }

    @Override
    void attention(List<TensorSpec> out, String p, RandomModel.Shape s, int layer) {
        int c = s.embed();
        out.add(TensorSpec.uniform(p + "x_rwkvag", 0f, 1f, c, 1, MIXES));
        out.add(TensorSpec.uniform(p + "w0", -3f, 1f, c, 1, 1));
        out.add(TensorSpec.lowRank(p + "w1", c, s.rankW()));
        out.add(TensorSpec.lowRank(p + "w2", s.rankW(), c));
        out.add(TensorSpec.uniform(p + "a0", -1f, 1f, c, 1, 1));
        out.add(TensorSpec.lowRank(p + "a1", c, s.rankA()));
        out.add(TensorSpec.lowRank(p + "a2", s.rankA(), c));
        if (hasValueResidual(layer)) {
            out.add(TensorSpec.uniform(p + "v0", -1f, 1f, c, 1, 1));
            out.add(TensorSpec.lowRank(p + "v1", c, s.rankV()));
            out.add(TensorSpec.lowRank(p + "v2", s.rankV(), c));
        }
        out.add(TensorSpec.linear(p + "g1", c, s.rankG()));
        out.add(TensorSpec.linear(p + "g2", s.rankG(), c));
        out.add(TensorSpec.uniform(p + "k_k", 0.5f, 1f, c, 1, 1));
        out.add(TensorSpec.uniform(p + "k_a", 0.5f, 1.5f, c, 1, 1));
        out.add(TensorSpec.normal(p + "r_k", 0.1f, s.headSize(), s.heads()));
        projections(out, p, c, "receptance", "key", "value", "output");
        groupNorm(out, p, c);
    }

    @Override
    void channelMixShift(List<TensorSpec> out, String p, int c) {
        out.add(TensorSpec.uniform(p + "x_k", 0f, 1f, c, 1, 1));
    }

    @Override
    boolean channelMixHasReceptance() {
        return false;
    }
}
