package dev.flinkrwkv.sample;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    private static float[] randomLogits(long seed, int vocab) {
        Random r = new Random(seed);
        float[] l = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            l[i] = (float) (r.nextGaussian() * 2);
        }
        return l;
    }

    @Test
    void greedyIsArgmaxWithLowestIdOnTies() {
        for (long seed = 0; seed < 20; seed++) {
            float[] l = randomLogits(seed, 300);
            int best = 0;
            for (int i = 1; i < l.length; i++) {
                if (l[i] > l[best]) {
                    best = i;
                }
            }
            SplitMix64 rng = new SplitMix64(seed);
            assertEquals(best, new Sampler(SamplerOptions.greedy()).sample(l, 0, l.length, rng));
            assertEquals(best, new Sampler(SamplerOptions.temperature(2).withTopK(1)).sample(l, 0, l.length, rng));
            assertEquals(seed, rng.state(), "greedy draws no random numbers");
        }
        float[] tie = {1, 5, 3, 5, 5};
        assertEquals(1, Sampler.argmax(tie, 0, 5));
        float[] shifted = {9, 9, 1, 5, 3, 5};
        assertEquals(3, new Sampler(SamplerOptions.greedy()).sample(shifted, 2, 4, new SplitMix64(1)) + 2);
    }

    @Test
    void sameSeedSameTokensOtherSeedOtherTokens() {
        float[] l = randomLogits(7, 256);
        SamplerOptions opts = SamplerOptions.temperature(1.3).withTopK(40).withTopP(0.9);
        int[] a = draw(new Sampler(opts), l, 42, 200);
        int[] b = draw(new Sampler(opts), l, 42, 200);
        int[] c = draw(new Sampler(opts), l, 43, 200);
        assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b));
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c));
    }

    private static int[] draw(Sampler s, float[] l, long seed, int n) {
        SplitMix64 rng = new SplitMix64(seed);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.sample(l, 0, l.length, rng);
        }
        return out;
    }

    @Test
    void rngStateResumesTheSequence() {
        SplitMix64 a = new SplitMix64(123);
        for (int i = 0; i < 10; i++) {
            a.nextLong();
        }
        SplitMix64 b = new SplitMix64(a.state());
        for (int i = 0; i < 10; i++) {
            assertEquals(a.nextLong(), b.nextLong());
        }
        // SplitMix64 is specified: the first output for seed 0 is the published test value
        assertEquals(0xE220A8397B1DCDAFL, new SplitMix64(0).nextLong());
        assertNotEquals(SplitMix64.seedFor(1, "a"), SplitMix64.seedFor(1, "b"));
        assertNotEquals(SplitMix64.seedFor(1, "a"), SplitMix64.seedFor(2, "a"));
    }

    @Test
    void temperatureSamplingFollowsTheSoftmax() {
        float[] l = {0, (float) Math.log(2), (float) Math.log(4), (float) Math.log(8)}; // p = 1/15, 2/15, 4/15, 8/15
        int n = 60_000;
        int[] counts = counts(new Sampler(SamplerOptions.temperature(1)), l, n, 5);
        for (int t = 0; t < 4; t++) {
            double p = (1 << t) / 15.0;
            double sd = Math.sqrt(n * p * (1 - p));
            assertTrue(Math.abs(counts[t] - n * p) < 5 * sd, "token " + t + ": " + counts[t] + " vs " + n * p);
        }
        // temperature 2 halves the logits: p proportional to 1, sqrt 2, 2, sqrt 8
        int[] hot = counts(new Sampler(SamplerOptions.temperature(2)), l, n, 6);
        double z = 1 + Math.sqrt(2) + 2 + Math.sqrt(8);
        double p3 = Math.sqrt(8) / z;
        assertTrue(Math.abs(hot[3] - n * p3) < 5 * Math.sqrt(n * p3 * (1 - p3)), "hot token 3: " + hot[3]);
    }

    private static int[] counts(Sampler s, float[] l, int n, long seed) {
        int[] c = new int[l.length];
        SplitMix64 rng = new SplitMix64(seed);
        for (int i = 0; i < n; i++) {
            c[s.sample(l, 0, l.length, rng)]++;
        }
        return c;
    }

    @Test
    void topKDrawsOnlyTheKMostLikely() {
        float[] l = randomLogits(11, 500);
        Integer[] order = rank(l);
        for (int k : new int[] {2, 5, 37}) {
            Set<Integer> allowed = new HashSet<>();
            for (int i = 0; i < k; i++) {
                allowed.add(order[i]);
            }
            Set<Integer> seen = seen(new Sampler(SamplerOptions.temperature(5).withTopK(k)), l, 20_000);
            assertEquals(allowed, seen, "k=" + k);
        }
    }

    @Test
    void topPDrawsTheSmallestPrefixReachingP() {
        float[] l = randomLogits(13, 200);
        Integer[] order = rank(l);
        double max = Double.NEGATIVE_INFINITY;
        for (float v : l) {
            max = Math.max(max, v);
        }
        double total = 0;
        for (float v : l) {
            total += Math.exp(v - max);
        }
        for (double p : new double[] {0.3, 0.8}) {
            Set<Integer> allowed = new HashSet<>();
            double sum = 0;
            for (int i = 0; sum < p * total; i++) {
                allowed.add(order[i]);
                sum += Math.exp(l[order[i]] - max);
            }
            assertEquals(allowed, seen(new Sampler(SamplerOptions.temperature(1).withTopP(p)), l, 20_000), "p=" + p);
            // combined with top-k: the nucleus of the 3 best alone
            double top3 = 0;
            for (int i = 0; i < 3; i++) {
                top3 += Math.exp(l[order[i]] - max);
            }
            Set<Integer> nucleus3 = new HashSet<>();
            double sum3 = 0;
            for (int i = 0; sum3 < p * top3; i++) {
                nucleus3.add(order[i]);
                sum3 += Math.exp(l[order[i]] - max);
            }
            assertEquals(nucleus3, seen(new Sampler(SamplerOptions.temperature(1).withTopK(3).withTopP(p)), l, 5_000),
                    "k=3, p=" + p);
        }
    }

    private static Set<Integer> seen(Sampler s, float[] l, int n) {
        Set<Integer> seen = new HashSet<>();
        SplitMix64 rng = new SplitMix64(99);
        for (int i = 0; i < n; i++) {
            seen.add(s.sample(l, 0, l.length, rng));
        }
        return seen;
    }

    /** Token ids most likely first (ties: lower id). */
    private static Integer[] rank(float[] l) {
        Integer[] ids = new Integer[l.length];
        for (int i = 0; i < l.length; i++) {
            ids[i] = i;
        }
        java.util.Arrays.sort(ids, (a, b) -> l[a] != l[b] ? Float.compare(l[b], l[a]) : Integer.compare(a, b));
        return ids;
    }

    @Test
    void badOptionsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new SamplerOptions(-1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new SamplerOptions(1, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> new SamplerOptions(1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplerOptions(1, 0, 1.5));
    }
}
