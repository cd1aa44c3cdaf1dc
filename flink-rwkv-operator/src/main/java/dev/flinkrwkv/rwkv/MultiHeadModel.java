package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.math.Ops;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.model.RwkvVersion;
import dev.flinkrwkv.model.Tensor;

/**
 * The versions whose time mix keeps a matrix per head (v5, v6, v7): H heads of size S = C / H, a state of
 * {@code 2 + S} C-vectors per layer (the two token-shift slots, then the H matrices of S x S), and the heads'
 * outputs group-normalized ("ln_x") before the output projection.
 */
abstract class MultiHeadModel extends RwkvModel {
    /** Offset of the head matrices in a layer's state, in units of C ({@link MultiHeadSpec#HEADS}). */
    static final int HEADS = MultiHeadSpec.HEADS;

    final int heads;
    final int headSize;
    final float groupNormEps;
    final float[][] lnXW;
    final float[][] lnXB;

    /**
     * @param geometry the tensor the head count was read from, named in the error if it does not divide C
     */
    MultiHeadModel(Weights w, RwkvVersion version, Tensor geometry, int heads, float groupNormEps)
            throws ModelFormatException {
        super(w, version);
        if (heads < 1 || embed % heads != 0) {
            throw w.shape(geometry, "a head count H dividing the embedding size " + embed + " (got " + heads + ")");
        }
        this.heads = heads;
        this.headSize = embed / heads;
        this.groupNormEps = groupNormEps;
        this.lnXW = new float[layers][];
        this.lnXB = new float[layers][];
        for (int i = 0; i < layers; i++) {
            lnXW[i] = w.vector(prefix(i) + "att.ln_x.weight", embed);
            lnXB[i] = w.vector(prefix(i) + "att.ln_x.bias", embed);
        }
    }

    @Override
    final int headSize() {
        return headSize;
    }

    @Override
    public final int heads() {
        return heads;
    }

    /** ln_x of layer {@code layer} over the C values of {@code y} at {@code off}. */
    final void groupNorm(float[] y, int off, int layer) {
        Ops.groupNorm(y, off, embed, heads, groupNormEps, lnXW[layer], lnXB[layer]);
    }
}
