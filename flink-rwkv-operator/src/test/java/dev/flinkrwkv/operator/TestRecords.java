package dev.flinkrwkv.operator;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The synthetic input of the operator tests: record {@code i} (a long, as a data generator emits it) has a
 * key among {@code keys} spread so that keys interleave, and a short log-like text of 0 to 12 bytes.
 */
final class TestRecords {
    private TestRecords() {}

    static String key(long i, int keys) {
        return "k" + Long.remainderUnsigned(mix(i), keys);
    }

    static String text(long i) {
        long h = mix(i * 31 + 7);
        int len = (int) Long.remainderUnsigned(h, 13);
        StringBuilder b = new StringBuilder(len);
        for (int j = 0; j < len; j++) {
            b.append((char) (' ' + Long.remainderUnsigned(h >>> (j * 5), 90)));
        }
        return b.toString();
    }

    static int[] tokens(long i) {
        byte[] bytes = text(i).getBytes(StandardCharsets.UTF_8);
        int[] t = new int[bytes.length];
        for (int j = 0; j < t.length; j++) {
            t[j] = bytes[j] & 0xFF;
        }
        return t;
    }

    /** Records {@code [from, to)} grouped by key, each key's in order. */
    static Map<String, List<Long>> byKey(long from, long to, int keys) {
        Map<String, List<Long>> m = new LinkedHashMap<>();
        for (long i = from; i < to; i++) {
            m.computeIfAbsent(key(i, keys), k -> new ArrayList<>()).add(i);
        }
        return m;
    }

    /** The given records grouped by key, each key's in id order. */
    static Map<String, List<Long>> byKey(java.util.Collection<Long> ids, int keys) {
        Map<String, List<Long>> m = new LinkedHashMap<>();
        ids.stream().sorted().forEach(i -> m.computeIfAbsent(key(i, keys), k -> new ArrayList<>()).add(i));
        return m;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
