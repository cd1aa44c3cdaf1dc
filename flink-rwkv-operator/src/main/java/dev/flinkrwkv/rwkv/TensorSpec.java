package dev.flinkrwkv.rwkv;

/**
 * One tensor of a version's file: its rwkv.cpp name, its ggml shape (ne), and how a random model draws its
 * values ({@link RandomModel}): a distribution (normal: mean {@code a}, standard deviation {@code b};
 * uniform: in [{@code a}, {@code b})), then the transform rwkv.cpp's converter bakes into the file.
 */
record TensorSpec(String name, int[] ne, Dist dist, float a, float b, Transform transform) {
    enum Dist { NORMAL, UNIFORM }

    enum Transform {
        NONE,
        /** -exp(x): v4 time_decay. */
        NEG_EXP,
        /** exp(-exp(x)): v5 time_decay, a multiplier in (0, 1). */
        EXP_NEG_EXP,
        /** exp(x): v5.1 time_first. */
        EXP
    }

    int dims() {
        return ne.length;
    }

    static TensorSpec uniform(String name, float low, float high, Transform transform, int... ne) {
        return new TensorSpec(name, ne, Dist.UNIFORM, low, high, transform);
    }

    static TensorSpec uniform(String name, float low, float high, int... ne) {
        return uniform(name, low, high, Transform.NONE, ne);
    }

    /** A Linear weight (rows outputs of cols inputs), std 1/sqrt(cols): outputs keep the inputs' scale. */
    static TensorSpec linear(String name, int cols, int rows) {
        return normal(name, 1f / (float) Math.sqrt(cols), cols, rows);
    }

    /** A low-rank correction: a tenth of a Linear's scale, so it perturbs rather than dominates. */
    static TensorSpec lowRank(String name, int cols, int rows) {
        return normal(name, 0.1f / (float) Math.sqrt(cols), cols, rows);
    }

    static TensorSpec normal(String name, float std, int... ne) {
        return new TensorSpec(name, ne, Dist.NORMAL, 0f, std, Transform.NONE);
    }

    static TensorSpec layerNorm(String name, int c) {
        return new TensorSpec(name, new int[] {c}, Dist.NORMAL, 1f, 0.05f, Transform.NONE);
    }

    static TensorSpec bias(String name, int c) {
        return new TensorSpec(name, new int[] {c}, Dist.NORMAL, 0f, 0.02f, Transform.NONE);
    }

    /** A token-shift interpolation coefficient vector, in (0, 1). */
    static TensorSpec mix(String name, int c) {
        return uniform(name, 0f, 1f, c);
    }
}
