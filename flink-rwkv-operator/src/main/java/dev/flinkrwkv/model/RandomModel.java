package dev.flinkrwkv.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a valid rwkv.cpp model file of any shape, for any RWKV version, with seeded random weights: for
 * benchmarks and tests at the sizes of real models (a 169M v4, a 0.1B v7) without downloading one.
 *
 * <p>The file has every tensor the loader needs, with the names, shapes and baked-in transforms of files
 * made by rwkv.cpp's converter (§2 of the format doc), and values at scales that keep activations sane:
 * Linear weights normal with standard deviation 1/sqrt(fan-in), LayerNorm weights near 1, mix
 * coefficients in (0, 1), v4 decays negative (the file stores -exp(w)), v5 decays in (0, 1) (the file
 * stores exp(-exp(w))), small low-rank projections. The storage type of each tensor follows rwkv.cpp:
 * {@link Quantizer#storageFor}, so a Q5_1 random model has the same tensors in Q5_1 as a real one.
 *
 * <p>Every row of every tensor is drawn from its own generator, seeded by the seed, the tensor's name and
 * the row, so the same spec and seed give the same bytes (on any JVM: the generator is integer
 * arithmetic and the transforms use {@link StrictMath}), and rows are written as they are drawn
 * (nothing model-sized is held in memory).
 */
public final class RandomModel {
    private RandomModel() {}

    /**
     * The shape of a model: version, layers, embedding size, vocabulary, channel-mix size and, where the
     * version has them, head size and low-rank dimensions (v6: maa and decay ranks; v7: decay w,
     * learning-rate a, value-residual v and gate g ranks).
     */
    public record Spec(RwkvVersion version, int layers, int embed, int vocab, int ffn, int headSize,
                       int maaRank, int decayRank, int rankW, int rankA, int rankV, int rankG) {
        public Spec {
            if (layers < 1 || embed < 1 || vocab < 1 || ffn < 1) {
                throw new IllegalArgumentException("layers, embedding, vocabulary and ffn sizes must be positive");
            }
            if (version != RwkvVersion.V4 && (headSize < 1 || embed % headSize != 0)) {
                throw new IllegalArgumentException("head size " + headSize + " must divide the embedding size " + embed);
            }
            if (version == RwkvVersion.V6 && (maaRank < 1 || decayRank < 1)) {
                throw new IllegalArgumentException("v6 low-rank sizes must be positive");
            }
            if (version == RwkvVersion.V7 && (rankW < 1 || rankA < 1 || rankV < 1 || rankG < 1)) {
                throw new IllegalArgumentException("v7 low-rank sizes must be positive");
            }
        }

        /**
         * A spec with the sizes RWKV's own training code derives from the embedding: ffn 4C (v6: 3.5C
         * rounded down to a multiple of 32), head size 64 (or the largest power of two dividing C, if
         * smaller), v6 ranks 32/64, v7 ranks as the RWKV-7 recipe sets them (for C = 768: w 64, a 64,
         * v 32, g 128).
         */
        public static Spec of(RwkvVersion version, int layers, int embed, int vocab) {
            int ffn = version == RwkvVersion.V6 ? Math.max(32, embed * 7 / 2 / 32 * 32) : 4 * embed;
            int head = java.math.BigInteger.valueOf(embed).gcd(java.math.BigInteger.valueOf(64)).intValue();
            return new Spec(version, layers, embed, vocab, ffn, head, 32, 64,
                    loraRank(1.8, 0.5, embed), loraRank(1.8, 0.5, embed), loraRank(1.3, 0.5, embed),
                    loraRank(0.6, 0.8, embed));
        }

        /** max(32, round(scale * C^power / 32) * 32): the RWKV-7 rule for its low-rank sizes. */
        private static int loraRank(double scale, double power, int embed) {
            return Math.max(32, (int) Math.round(scale * StrictMath.pow(embed, power) / 32) * 32);
        }

        public Spec withFfn(int f) {
            return new Spec(version, layers, embed, vocab, f, headSize, maaRank, decayRank, rankW, rankA, rankV, rankG);
        }

        public Spec withHeadSize(int s) {
            return new Spec(version, layers, embed, vocab, ffn, s, maaRank, decayRank, rankW, rankA, rankV, rankG);
        }

        /** v6 ranks of the token-shift (maa) and decay projections. */
        public Spec withV6Ranks(int maa, int decay) {
            return new Spec(version, layers, embed, vocab, ffn, headSize, maa, decay, rankW, rankA, rankV, rankG);
        }

        /** v7 ranks of the decay (w), learning-rate (a), value-residual (v) and gate (g) projections. */
        public Spec withV7Ranks(int w, int a, int v, int g) {
            return new Spec(version, layers, embed, vocab, ffn, headSize, maaRank, decayRank, w, a, v, g);
        }

        public int heads() {
            return embed / headSize;
        }
    }

    /** How one tensor's values are drawn: a distribution, then a transform the converter bakes in. */
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

    /** One tensor of the model to be: name, ggml shape and how its values are drawn (mean/low a, std/high b). */
    record Entry(String name, int[] ne, Dist dist, float a, float b, Transform transform) {
        int dims() {
            return ne.length;
        }
    }

    /** What was written. */
    public record Result(int tensors, long parameters, long bytes) {}

    /** Writes a random model of this spec, storage type and seed to {@code out}. */
    public static Result write(Spec spec, TensorType type, long seed, Path out) throws IOException {
        List<Entry> entries = entries(spec);
        for (Entry e : entries) {
            TensorType t = Quantizer.storageFor(e.name(), e.dims(), type);
            if (e.ne()[0] % t.blockElements != 0) {
                throw new IllegalArgumentException("tensor '" + e.name() + "' cannot be " + t + ": its rows of "
                        + e.ne()[0] + " values are not a multiple of " + t.blockElements
                        + " (choose sizes that are multiples of 32, or FP16/FP32)");
            }
        }
        long params = 0;
        try (ModelWriter w = ModelWriter.create(out, 101, spec.vocab(), spec.embed(), spec.layers(), type.code)) {
            int widest = 0;
            for (Entry e : entries) {
                widest = Math.max(widest, e.ne()[0]);
            }
            float[] row = new float[widest];
            for (Entry e : entries) {
                TensorType t = Quantizer.storageFor(e.name(), e.dims(), type);
                long nameSeed = seed ^ scramble(e.name().hashCode() * 0x9E3779B97F4A7C15L);
                int cols = e.ne()[0];
                w.write(e.name(), t, e.ne(), (r, o) -> {
                    draw(e, nameSeed, r, row, cols);
                    t.storage.encode(row, 0, cols, o);
                });
                long n = 1;
                for (int d : e.ne()) {
                    n *= d;
                }
                params += n;
            }
            w.finish();
            return new Result(entries.size(), params, w.size());
        }
    }

    /** Draws row {@code r} of a tensor from the generator seeded by (seed, name, row). */
    private static void draw(Entry e, long nameSeed, int r, float[] row, int cols) {
        long state = scramble(nameSeed + 0xD1B54A32D192ED03L * (r + 1));
        float a = e.a(), b = e.b();
        for (int i = 0; i < cols; i++) {
            state += 0x9E3779B97F4A7C15L;
            long z = scramble(state);
            float v;
            if (e.dist() == Dist.NORMAL) {
                // Irwin-Hall: the sum of four 16-bit uniforms, centred and scaled to unit variance
                int s = (int) (z & 0xFFFF) + (int) ((z >>> 16) & 0xFFFF) + (int) ((z >>> 32) & 0xFFFF) + (int) (z >>> 48);
                v = a + b * ((s - 131070f) * (1.7320508f / 65536f));
            } else {
                v = a + (b - a) * ((z >>> 40) * 0x1p-24f);
            }
            switch (e.transform()) {
                case NEG_EXP: v = (float) -StrictMath.exp(v); break;
                case EXP_NEG_EXP: v = (float) StrictMath.exp(-StrictMath.exp(v)); break;
                case EXP: v = (float) StrictMath.exp(v); break;
                default: break;
            }
            row[i] = v;
        }
    }

    /** SplitMix64's finalizer: a bijective scramble of 64 bits. */
    private static long scramble(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Every tensor of a model of this spec, in file order. */
    static List<Entry> entries(Spec s) {
        List<Entry> out = new ArrayList<>();
        int c = s.embed();
        out.add(normal("emb.weight", 1f, c, s.vocab()));
        out.add(layerNorm("blocks.0.ln0.weight", c));
        out.add(bias("blocks.0.ln0.bias", c));
        for (int i = 0; i < s.layers(); i++) {
            String p = "blocks." + i + ".";
            out.add(layerNorm(p + "ln1.weight", c));
            out.add(bias(p + "ln1.bias", c));
            out.add(layerNorm(p + "ln2.weight", c));
            out.add(bias(p + "ln2.bias", c));
            switch (s.version()) {
                case V4: v4Attention(out, p + "att.", c); break;
                case V5_1:
                case V5_2: v5Attention(out, p + "att.", s); break;
                case V6: v6Attention(out, p + "att.", s); break;
                case V7: v7Attention(out, p + "att.", s, i); break;
                default: throw new IllegalStateException();
            }
            channelMix(out, p + "ffn.", s);
        }
        out.add(layerNorm("ln_out.weight", c));
        out.add(bias("ln_out.bias", c));
        out.add(linear("head.weight", c, s.vocab()));
        return out;
    }

    private static void v4Attention(List<Entry> out, String p, int c) {
        out.add(mix(p + "time_mix_k", c));
        out.add(mix(p + "time_mix_v", c));
        out.add(mix(p + "time_mix_r", c));
        out.add(new Entry(p + "time_first", new int[] {c}, Dist.UNIFORM, -1f, 1f, Transform.NONE));
        out.add(new Entry(p + "time_decay", new int[] {c}, Dist.UNIFORM, -4f, 1f, Transform.NEG_EXP));
        projections(out, p, c, "key", "value", "receptance", "output");
    }

    private static void v5Attention(List<Entry> out, String p, Spec s) {
        int c = s.embed(), h = s.heads(), hs = s.headSize();
        out.add(mix(p + "time_mix_k", c));
        out.add(mix(p + "time_mix_v", c));
        out.add(mix(p + "time_mix_r", c));
        if (s.version() == RwkvVersion.V5_2) {
            out.add(mix(p + "time_mix_g", c));
            out.add(new Entry(p + "time_faaaa", new int[] {1, hs, h}, Dist.UNIFORM, -0.5f, 0.5f, Transform.NONE));
            out.add(new Entry(p + "time_decay", new int[] {1, hs, h}, Dist.UNIFORM, -4f, 1f, Transform.EXP_NEG_EXP));
        } else {
            out.add(new Entry(p + "time_first", new int[] {1, 1, h}, Dist.UNIFORM, -1f, 0.5f, Transform.EXP));
            out.add(new Entry(p + "time_decay", new int[] {1, 1, h}, Dist.UNIFORM, -4f, 1f, Transform.EXP_NEG_EXP));
        }
        projections(out, p, c, "key", "value", "receptance", "output");
        if (s.version() == RwkvVersion.V5_2) {
            projections(out, p, c, "gate");
        }
        groupNorm(out, p, c);
    }

    private static void v6Attention(List<Entry> out, String p, Spec s) {
        int c = s.embed(), h = s.heads(), hs = s.headSize(), dm = s.maaRank(), dd = s.decayRank();
        for (String m : new String[] {"x", "w", "k", "v", "r", "g"}) {
            out.add(mix(p + "time_maa_" + m, c));
        }
        out.add(lowRank(p + "time_maa_w1", c, 5 * dm));
        out.add(new Entry(p + "time_maa_w2", new int[] {dm, c, 5}, Dist.NORMAL, 0f, 0.1f / (float) Math.sqrt(dm), Transform.NONE));
        out.add(new Entry(p + "time_decay", new int[] {1, hs, h}, Dist.UNIFORM, -4f, 1f, Transform.NONE));
        out.add(lowRank(p + "time_decay_w1", c, dd));
        out.add(lowRank(p + "time_decay_w2", dd, c));
        out.add(new Entry(p + "time_faaaa", new int[] {1, hs, h}, Dist.UNIFORM, -0.5f, 0.5f, Transform.NONE));
        projections(out, p, c, "receptance", "key", "value", "output", "gate");
        groupNorm(out, p, c);
    }

    private static void v7Attention(List<Entry> out, String p, Spec s, int layer) {
        int c = s.embed();
        out.add(new Entry(p + "x_rwkvag", new int[] {c, 1, 6}, Dist.UNIFORM, 0f, 1f, Transform.NONE));
        out.add(new Entry(p + "w0", new int[] {c, 1, 1}, Dist.UNIFORM, -3f, 1f, Transform.NONE));
        out.add(lowRank(p + "w1", c, s.rankW()));
        out.add(lowRank(p + "w2", s.rankW(), c));
        out.add(new Entry(p + "a0", new int[] {c, 1, 1}, Dist.UNIFORM, -1f, 1f, Transform.NONE));
        out.add(lowRank(p + "a1", c, s.rankA()));
        out.add(lowRank(p + "a2", s.rankA(), c));
        if (layer > 0) {
            out.add(new Entry(p + "v0", new int[] {c, 1, 1}, Dist.UNIFORM, -1f, 1f, Transform.NONE));
            out.add(lowRank(p + "v1", c, s.rankV()));
            out.add(lowRank(p + "v2", s.rankV(), c));
        }
        out.add(linear(p + "g1", c, s.rankG()));
        out.add(linear(p + "g2", s.rankG(), c));
        out.add(new Entry(p + "k_k", new int[] {c, 1, 1}, Dist.UNIFORM, 0.5f, 1f, Transform.NONE));
        out.add(new Entry(p + "k_a", new int[] {c, 1, 1}, Dist.UNIFORM, 0.5f, 1.5f, Transform.NONE));
        out.add(new Entry(p + "r_k", new int[] {s.headSize(), s.heads()}, Dist.NORMAL, 0f, 0.1f, Transform.NONE));
        projections(out, p, c, "receptance", "key", "value", "output");
        groupNorm(out, p, c);
    }

    private static void channelMix(List<Entry> out, String p, Spec s) {
        int c = s.embed(), f = s.ffn();
        switch (s.version()) {
            case V7:
                out.add(new Entry(p + "x_k", new int[] {c, 1, 1}, Dist.UNIFORM, 0f, 1f, Transform.NONE));
                break;
            case V6:
                out.add(mix(p + "time_maa_k", c));
                out.add(mix(p + "time_maa_r", c));
                break;
            default:
                out.add(mix(p + "time_mix_k", c));
                out.add(mix(p + "time_mix_r", c));
        }
        out.add(linear(p + "key.weight", c, f));
        out.add(linear(p + "value.weight", f, c));
        if (s.version() != RwkvVersion.V7) {
            out.add(linear(p + "receptance.weight", c, c));
        }
    }

    private static void projections(List<Entry> out, String p, int c, String... names) {
        for (String n : names) {
            out.add(linear(p + n + ".weight", c, c));
        }
    }

    private static void groupNorm(List<Entry> out, String p, int c) {
        out.add(layerNorm(p + "ln_x.weight", c));
        out.add(bias(p + "ln_x.bias", c));
    }

    /** A Linear weight (rows outputs of cols inputs), std 1/sqrt(cols): outputs keep the inputs' scale. */
    private static Entry linear(String name, int cols, int rows) {
        return normal(name, 1f / (float) Math.sqrt(cols), cols, rows);
    }

    /** A low-rank correction: a tenth of a Linear's scale, so it perturbs rather than dominates. */
    private static Entry lowRank(String name, int cols, int rows) {
        return normal(name, 0.1f / (float) Math.sqrt(cols), cols, rows);
    }

    private static Entry normal(String name, float std, int cols, int rows) {
        return new Entry(name, new int[] {cols, rows}, Dist.NORMAL, 0f, std, Transform.NONE);
    }

    private static Entry layerNorm(String name, int c) {
        return new Entry(name, new int[] {c}, Dist.NORMAL, 1f, 0.05f, Transform.NONE);
    }

    private static Entry bias(String name, int c) {
        return new Entry(name, new int[] {c}, Dist.NORMAL, 0f, 0.02f, Transform.NONE);
    }

    /** A token-shift interpolation coefficient vector, in (0, 1). */
    private static Entry mix(String name, int c) {
        return new Entry(name, new int[] {c}, Dist.UNIFORM, 0f, 1f, Transform.NONE);
    }
}
