package dev.flinkrwkv.tokenize;

import java.util.Arrays;

/** An open-addressing map from long keys to non-negative ints (-1 for a missing key), for tokenizer tables. */
final class LongIntMap {
    private static final long EMPTY = Long.MIN_VALUE;

    private long[] keys;
    private int[] values;
    private int mask;
    private int size;

    LongIntMap(int expected) {
        int cap = 4;
        while (2 * cap < 3 * expected) { // at most 2/3 full
            cap <<= 1;
        }
        keys = new long[cap];
        values = new int[cap];
        Arrays.fill(keys, EMPTY);
        mask = cap - 1;
    }

    int get(long key) {
        int i = hash(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) {
                return values[i];
            }
            if (k == EMPTY) {
                return -1;
            }
            i = (i + 1) & mask;
        }
    }

    void put(long key, int value) {
        if (key == EMPTY || value < 0) {
            throw new IllegalArgumentException("key " + key + " value " + value);
        }
        if (3 * (size + 1) > 2 * keys.length) {
            grow();
        }
        int i = hash(key) & mask;
        while (keys[i] != EMPTY && keys[i] != key) {
            i = (i + 1) & mask;
        }
        if (keys[i] == EMPTY) {
            size++;
        }
        keys[i] = key;
        values[i] = value;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new int[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        mask = keys.length - 1;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29) ^ (h >>> 32));
    }
}
