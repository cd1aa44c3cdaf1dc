package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.model.RwkvVersion;

import java.util.List;

/**
 * What the multi-head versions (5, 6, 7) share: H heads of size S = C / H, a state of {@code 2 + S}
 * C-vectors per layer (the two token-shift slots, then the H matrices of S x S, head h at {@code h*S*S}),
 * and the heads' outputs group-normalized by {@code att.ln_x} before the output projection.
 */
public abstract class MultiHeadSpec extends RwkvSpec {
    /** Offset of the head matrices in a layer's state, in units of C (after the two token-shift slots). */
    public static final int HEADS = 2;

    MultiHeadSpec(RwkvVersion version) {
        super(version);
    }

    @Override
    public final int stateVectorsPerLayer(int headSize) {
        return HEADS + headSize;
    }

    @Override
    void check(RandomModel.Shape s) {
        if (s.headSize() < 1 || s.embed() % s.headSize() != 0) {
            throw new IllegalArgumentException("head size " + s.headSize() + " must divide the embedding size " + s.embed());
        }
    }

    /** The group norm of the heads' outputs. */
    static void groupNorm(List<TensorSpec> out, String p, int c) {
        out.add(TensorSpec.layerNorm(p + "ln_x.weight", c));
        out.add(TensorSpec.bias(p + "ln_x.bias", c));
    }
}
