package dev.flinkrwkv.train;

/**
 * The sizes of a trainable RWKV-7 model: vocabulary, embedding C, layers, head size S (C = H*S), channel-mix
 * hidden size F and the ranks of the four low-rank projections (decay w, learning rate a, value residual v,
 * gate g). {@link #of} picks F and the ranks as the RWKV-7 reference does for a given C.
 */
public record Rwkv7Shape(int vocab, int embed, int layers, int headSize, int ffn,
                         int decayRank, int aRank, int valueRank, int gateRank) {
    public Rwkv7Shape {
        if (vocab < 2 || embed < 1 || layers < 1 || headSize < 1 || ffn < 1
                || decayRank < 1 || aRank < 1 || valueRank < 1 || gateRank < 1) {
            throw new IllegalArgumentException("every size must be positive (vocabulary at least 2)");
        }
        if (embed % headSize != 0) {
            throw new IllegalArgumentException("the embedding size " + embed + " is not a multiple of the head size "
                    + headSize);
        }
    }

    /**
     * A byte-level model (vocabulary 256) with the reference's choices: F = 4C, LoRA ranks
     * {@code max(32, round(k * C^p / 32) * 32)} (decay and a: 1.8·C^0.5, value: 1.3·C^0.5, gate: 0.6·C^0.8),
     * and the head size capped at C.
     */
    public static Rwkv7Shape of(int embed, int layers, int headSize) {
        int s = Math.min(headSize, embed);
        return new Rwkv7Shape(256, embed, layers, s, 4 * embed,
                rank(1.8, 0.5, embed), rank(1.8, 0.5, embed), rank(1.3, 0.5, embed), rank(0.6, 0.8, embed));
    }

    private static int rank(double k, double p, int c) {
        return Math.max(32, (int) Math.round(k * Math.pow(c, p) / 32) * 32);
    }

    public int heads() {
        return embed / headSize;
    }

    /** Doubles in one carried state: per layer ffn_xx (C), att_xx (C), H matrices of S x S (rwkv.cpp's layout). */
    public int stateSize() {
        return layers * stateVectorsPerLayer() * embed;
    }

    int stateVectorsPerLayer() {
        return dev.flinkrwkv.rwkv.RwkvSpec.of(dev.flinkrwkv.model.RwkvVersion.V7).stateVectorsPerLayer(headSize);
    }
}
