package dev.flinkrwkv.math;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link MatMulThreads#forEachRange}: every item once, ranges on several threads, failures passed on. */
class MatMulThreadsTest {

    @Test
    void everyItemRunsOnceInContiguousRangesOverTheThreads() {
        try (MatMulThreads threads = new MatMulThreads(2)) {
            for (int n : new int[] {0, 1, 3, 4, 5, 64, 1001}) {
                int[] runs = new int[n];
                Thread[] by = new Thread[n];
                for (int round = 0; round < 3; round++) {
                    threads.forEachRange(n, (from, to) -> {
                        for (int i = from; i < to; i++) {
                            runs[i]++;
                            by[i] = Thread.currentThread();
                        }
                    });
                }
                for (int i = 0; i < n; i++) {
                    assertEquals(3, runs[i], "item " + i + " of " + n);
                }
                Set<Thread> seen = Collections.newSetFromMap(new IdentityHashMap<>());
                seen.addAll(Arrays.asList(by));
                // fewer than two items per thread stay on the caller; more are split, the caller taking the first
                assertEquals(n == 0 ? 0 : n < 4 ? 1 : 2, seen.size(), "threads used for " + n + " items");
                if (n > 0) {
                    assertEquals(Thread.currentThread(), by[0]);
                }
            }
        }
    }

    @Test
    void aSplitRangeTaskMatchesTheCallerAlone() {
        // each item computed by one thread with the same code: the bits do not depend on the split
        int n = 257;
        float[][] out = new float[2][n];
        for (int t = 1; t <= 2; t++) {
            float[] dst = out[t - 1];
            try (MatMulThreads threads = new MatMulThreads(t)) {
                threads.forEachRange(n, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        float s = 0f;
                        for (int j = 1; j <= 100; j++) {
                            s += (float) Math.sin(i * 0.37 + j) / j;
                        }
                        dst[i] = s;
                    }
                });
            }
        }
        assertTrue(Arrays.equals(out[0], out[1]));
    }

    @Test
    void aFailureOnAWorkerReachesTheCaller() {
        try (MatMulThreads threads = new MatMulThreads(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> threads.forEachRange(8,
                    (from, to) -> {
                        if (from > 0) {
                            throw new IllegalStateException("worker range " + from);
                        }
                    }));
            assertEquals("worker range 4", e.getMessage());
            int[] ran = new int[1];
            threads.forEachRange(8, (from, to) -> {
                synchronized (ran) {
                    ran[0] += to - from;
                }
            });
            assertEquals(8, ran[0], "usable after a failure");
        }
    }
}
