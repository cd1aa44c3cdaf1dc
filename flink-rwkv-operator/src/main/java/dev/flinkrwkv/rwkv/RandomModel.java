package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.model.ModelWriter;
import dev.flinkrwkv.model.Quantizer;
import dev.flinkrwkv.model.RwkvVersion;
import dev.flinkrwkv.model.TensorType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a valid rwkv.cpp model file of any shape, for any RWKV version, with seeded random weights: for
 * benchmarks and tests at the sizes of real models (a 169M v4, a 0.1B v7) without downloading one.
 *
 * <p>The file has every tensor the loader needs, with the names, shapes and baked-in transforms of files
 * made by rwkv.cpp's converter (§2 of the format doc), as the version's {@link RwkvSpec} lists them, and
 * values at scales that keep activations sane:
 * Linear weights normal with standard deviation 1/sqrt(fan-in), LayerNorm weights near 1, mix
 * coefficients in (0, 1), v4 decays negative (the file stores -exp(w)), v5 decays in (0, 1) (the file
 * stores exp(-exp(w))), small low-rank projections. The storage type of each tensor follows rwkv.cpp:
 * {@link Quantizer#storageFor} with the version's quantization rules, so a Q5_1 random model has the same tensors in Q5_1 as a real one.
 *
 * <p>Every row of every tensor is drawn from its own generator, seeded by the seed, the tensor's name and
 * the row, so the same shape and seed give the same bytes (on any JVM: the generator is integer
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
    public record Shape(RwkvVersion version, int layers, int embed, int vocab, int ffn, int headSize,
                        int maaRank, int decayRank, int rankW, int rankA, int rankV, int rankG) {
        public Shape(RwkvVersion version, int layers, int embed, int vocab, int ffn, int headSize,
                     int maaRank, int decayRank, int rankW, int rankA, int rankV, int rankG) {
            if (layers < 1 || embed < 1 || vocab < 1 || ffn < 1) {
                throw new IllegalArgumentException("layers, embedding, vocabulary and ffn sizes must be positive");
            }
            this.version = version;
            this.layers = layers;
            this.embed = embed;
            this.vocab = vocab;
            this.ffn = ffn;
            this.headSize = headSize;
            this.maaRank = maaRank;
            this.decayRank = decayRank;
            this.rankW = rankW;
            this.rankA = rankA;
            this.rankV = rankV;
            this.rankG = rankG;
            RwkvSpec.of(version).check(this); // the version's own limits, on the complete shape
        }

        /**
         * A shape with the sizes RWKV's own training code derives from the embedding: ffn 4C (v6: 3.5C
         * rounded down to a multiple of 32), head size 64 (or the largest power of two dividing C, if
         * smaller), v6 ranks 32/64, v7 ranks as the RWKV-7 recipe sets them (for C = 768: w 64, a 64,
         * v 32, g 128).
         */
        public static Shape of(RwkvVersion version, int layers, int embed, int vocab) {
            int ffn = version == RwkvVersion.V6 ? Math.max(32, embed * 7 / 2 / 32 * 32) : 4 * embed;
            int head = java.math.BigInteger.valueOf(embed).gcd(java.math.BigInteger.valueOf(64)).intValue();
            return new Shape(version, layers, embed, vocab, ffn, head, 32, 64,
                    loraRank(1.8, 0.5, embed), loraRank(1.8, 0.5, embed), loraRank(1.3, 0.5, embed),
                    loraRank(0.6, 0.8, embed));
        }

        /** max(32, round(scale * C^power / 32) * 32): the RWKV-7 rule for its low-rank sizes. */
        private static int loraRank(double scale, double power, int embed) {
            return Math.max(32, (int) Math.round(scale * StrictMath.pow(embed, power) / 32) * 32);
        }

        public Shape withFfn(int f) {
            return new Shape(version, layers, embed, vocab, f, headSize, maaRank, decayRank, rankW, rankA, rankV, rankG);
        }

        public Shape withHeadSize(int s) {
            return new Shape(version, layers, embed, vocab, ffn, s, maaRank, decayRank, rankW, rankA, rankV, rankG);
        }

        /** v6 ranks of the token-shift (maa) and decay projections. */
        public Shape withV6Ranks(int maa, int decay) {
            return new Shape(version, layers, embed, vocab, ffn, headSize, maa, decay, rankW, rankA, rankV, rankG);
        }

        /** v7 ranks of the decay (w), learning-rate (a), value-residual (v) and gate (g) projections. */
        public Shape withV7Ranks(int w, int a, int v, int g) {
            return new Shape(version, layers, embed, vocab, ffn, headSize, maaRank, decayRank, w, a, v, g);
        }

        public int heads() {
            return embed / headSize;
        }
    }

    /** What was written. */
    public record Result(int tensors, long parameters, long bytes) {}

    /** Writes a random model of this shape, storage type and seed to {@code out}. */
    public static Result write(Shape shape, TensorType type, long seed, Path out) throws IOException {
        RwkvSpec spec = RwkvSpec.of(shape.version());
        List<TensorSpec> entries = spec.tensors(shape);
        for (TensorSpec e : entries) {
            TensorType t = Quantizer.storageFor(e.name(), e.dims(), type, spec::keepsUnquantized);
            if (e.ne()[0] % t.blockElements != 0) {
                throw new IllegalArgumentException("tensor '" + e.name() + "' cannot be " + t + ": its rows of "
                        + e.ne()[0] + " values are not a multiple of " + t.blockElements
                        + " (choose sizes that are multiples of 32, or FP16/FP32)");
            }
        }
        long params = 0;
        try (ModelWriter w = ModelWriter.create(out, 101, shape.vocab(), shape.embed(), shape.layers(), type.code)) {
            int widest = 0;
            for (TensorSpec e : entries) {
                widest = Math.max(widest, e.ne()[0]);
            }
            float[] row = new float[widest];
            for (TensorSpec e : entries) {
                TensorType t = Quantizer.storageFor(e.name(), e.dims(), type, spec::keepsUnquantized);
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
    private static void draw(TensorSpec e, long nameSeed, int r, float[] row, int cols) {
        long state = scramble(nameSeed + 0xD1B54A32D192ED03L * (r + 1));
        float a = e.a(), b = e.b();
        for (int i = 0; i < cols; i++) {
            state += 0x9E3779B97F4A7C15L;
            long z = scramble(state);
            float v;
            if (e.dist() == TensorSpec.Dist.NORMAL) {
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
}
