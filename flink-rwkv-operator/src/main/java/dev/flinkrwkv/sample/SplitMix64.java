package dev.flinkrwkv.sample;

/**
 * The random generator of sampling: SplitMix64 (Steele, Lea and Flood's generator behind
 * {@link java.util.SplittableRandom}), written out here so that its sequence is fixed by this code and not by
 * a JDK version. Its whole state is one {@code long}, which the operator keeps in each key's Flink state:
 * a replay after a failure restores the state and draws exactly the same numbers.
 *
 * <p>Mutable and tiny; reused across keys by loading a key's state ({@link #setState}) before drawing and
 * reading it back ({@link #state()}) after.
 */
public final class SplitMix64 {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private long state;

    public SplitMix64(long state) {
        this.state = state;
    }

    public long state() {
        return state;
    }

    public void setState(long state) {
        this.state = state;
    }

    /** The next 64 random bits. */
    public long nextLong() {
        state += GOLDEN_GAMMA;
        return mix(state);
    }

    /** Uniform in [0, 1), 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** SplitMix64's output function (a bijection with good avalanche); also a hash for deriving seeds. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A per-key starting state from a job-wide seed and the key's text, the same on every JVM. */
    public static long seedFor(long seed, String key) {
        long h = mix(seed ^ GOLDEN_GAMMA);
        for (int i = 0; i < key.length(); i++) {
            h = mix(h + key.charAt(i));
        }
        return h;
    }
}
