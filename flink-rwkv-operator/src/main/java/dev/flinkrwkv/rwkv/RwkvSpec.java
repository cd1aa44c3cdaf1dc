package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.model.RwkvVersion;

import java.util.ArrayList;
import java.util.List;

/**
 * What one RWKV version is, in one place: its tensors (rwkv.cpp names, ggml shapes, and the values a random
 * model draws for them), its state layout, and the tensors rwkv.cpp never quantizes. One subclass per
 * version family: {@link Rwkv4Spec}, and for the multi-head versions ({@link MultiHeadSpec})
 * {@link Rwkv5Spec} (5.1 and 5.2), {@link Rwkv6Spec}, {@link Rwkv7Spec}. The CPU models
 * ({@link RwkvModel}), {@link RandomModel}, the trainer and the CUDA backend read it; the file format
 * package ({@code model}) takes the quantization rules as a parameter and knows no version's tensors.
 *
 * <p>Every version's model has the same frame: the embedding and ln0, then per layer ln1, ln2, the time
 * mix ("attention", {@code att.}) and the channel mix ({@code ffn.}), then ln_out and the head. The
 * versions differ in the time mix and in the channel mix's token-shift vectors.
 */
public abstract class RwkvSpec {
    /**
     * Every version's layer state starts with the two token-shift slots, in units of C floats: the channel
     * mix's previous input, then the time mix's.
     */
    public static final int FFN_XX = 0, ATT_XX = 1;

    private final RwkvVersion version;

    RwkvSpec(RwkvVersion version) {
        this.version = version;
    }

    /** The spec of a version. */
    public static RwkvSpec of(RwkvVersion version) {
        switch (version) {
            case V4: return Rwkv4Spec.V4;
            case V5_1: return Rwkv5Spec.V5_1;
            case V5_2: return Rwkv5Spec.V5_2;
            case V6: return Rwkv6Spec.V6;
            case V7: return Rwkv7Spec.V7;
            default: throw new IllegalStateException(version.toString());
        }
    }

    public final RwkvVersion version() {
        return version;
    }

    // ---- state layout

    /** Number of C-vectors per layer in the state. */
    public abstract int stateVectorsPerLayer(int headSize);

    /** Sets a state of {@link #stateSize} zeros to rwkv.cpp's initial state (zeros but for v4's pp). */
    public void initialState(float[] state, int embed, int layers, int headSize) {}

    /** Floats in one state of a model of this shape. */
    public final int stateSize(int embed, int layers, int headSize) {
        return embed * stateVectorsPerLayer(headSize) * layers;
    }

    // ---- quantization

    /**
     * Whether rwkv.cpp's quantizer keeps this version's tensor unquantized although it is 2-D (the
     * embedding and the head are kept in every version, by the quantizer itself).
     */
    public boolean keepsUnquantized(String tensorName) {
        return false;
    }

    private static final List<RwkvSpec> ALL = List.of(Rwkv4Spec.V4, Rwkv5Spec.V5_1, Rwkv5Spec.V5_2, Rwkv6Spec.V6,
            Rwkv7Spec.V7);

    /**
     * Whether any version keeps the tensor unquantized: the rule a conversion of a file of any version
     * applies (rwkv.cpp's quantizer has one list of names for all versions; names are version-specific).
     * Pass it to {@link dev.flinkrwkv.model.Quantizer}.
     */
    public static boolean keptUnquantizedByAnyVersion(String tensorName) {
        for (RwkvSpec s : ALL) {
            if (s.keepsUnquantized(tensorName)) {
                return true;
            }
        }
        return false;
    }

    // ---- tensors

    /** Throws if a random model of this shape cannot be made for this version. */
    void check(RandomModel.Shape s) {}

    /** Every tensor of a model of this shape, in file order. */
    final List<TensorSpec> tensors(RandomModel.Shape s) {
        List<TensorSpec> out = new ArrayList<>();
        int c = s.embed();
        out.add(TensorSpec.normal("emb.weight", 1f, c, s.vocab()));
        out.add(TensorSpec.layerNorm("blocks.0.ln0.weight", c));
        out.add(TensorSpec.bias("blocks.0.ln0.bias", c));
        for (int i = 0; i < s.layers(); i++) {
            String p = RwkvModel.prefix(i);
            out.add(TensorSpec.layerNorm(p + "ln1.weight", c));
            out.add(TensorSpec.bias(p + "ln1.bias", c));
            out.add(TensorSpec.layerNorm(p + "ln2.weight", c));
            out.add(TensorSpec.bias(p + "ln2.bias", c));
            attention(out, p + "att.", s, i);
            String f = p + "ffn.";
            channelMixShift(out, f, c);
            out.add(TensorSpec.linear(f + "key.weight", c, s.ffn()));
            out.add(TensorSpec.linear(f + "value.weight", s.ffn(), c));
            if (channelMixHasReceptance()) {
                out.add(TensorSpec.linear(f + "receptance.weight", c, c));
            }
        }
        out.add(TensorSpec.layerNorm("ln_out.weight", c));
        out.add(TensorSpec.bias("ln_out.bias", c));
        out.add(TensorSpec.linear("head.weight", c, s.vocab()));
        return out;
    }

    /** The time mix's tensors of layer {@code layer}, names prefixed with {@code p} ("blocks.N.att."). */
    abstract void attention(List<TensorSpec> out, String p, RandomModel.Shape s, int layer);

    /** The channel mix's token-shift vectors (v4, v5: time_mix_k, time_mix_r). */
    void channelMixShift(List<TensorSpec> out, String p, int c) {
        out.add(TensorSpec.mix(p + "time_mix_k", c));
        out.add(TensorSpec.mix(p + "time_mix_r", c));
    }

    /** Whether the channel mix gates its output by a receptance (every version before 7). */
    boolean channelMixHasReceptance() {
        return true;
    }

    /** The time mix's four C x C projections, named alike in every version. */
    static void projections(List<TensorSpec> out, String p, int c, String... names) {
        for (String n : names) {
            out.add(TensorSpec.linear(p + n + ".weight", c, c));
        }
    }
}
