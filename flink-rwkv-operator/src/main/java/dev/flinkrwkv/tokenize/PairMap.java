package dev.flinkrwkv.tokenize;

import java.util.Arrays;

/**
 * BPE merge ranks: (left id, right id) to rank, open addressing with the key and the rank packed in one long, so
 * that a lookup reads one slot (the merge loop's inner step is this lookup).
 */
final class PairMap {
    private static final long EMPTY = -1L;
    private static final int RANK_BITS = 24;

    private final long vocab;
    private final long[] slots;
    private final int mask;

    PairMap(int vocab, int merges) {
        if (vocab >= 1 << 20 || merges >= 1 << RANK_BITS) {
            throw new IllegalArgumentException("vocabularies up to 2^20 ids and 2^24 merges are supported, this has "
                    + vocab + " ids and " + merges + " merges");
        }
        this.vocab = vocab;
        int cap = 4;
        while (2 * cap < 3 * merges) { // at most 2/3 full
            cap <<= 1;
        }
        slots = new long[cap];
        Arrays.fill(slots, EMPTY);
        mask = cap - 1;
    }

    /** The rank of merging left and right, or -1. */
    int get(int left, int right) {
        long key = left * vocab + right;
        int i = hash(key) & mask;
        while (true) {
            long e = slots[i];
            if (e >>> RANK_BITS == key) {
                return (int) (e & ((1 << RANK_BITS) - 1));
            }
            if (e == EMPTY) {
                return -1;
            }
            i = (i + 1) & mask;
        }
    }

    /** Sets the rank of a pair not yet present. */
    void putIfAbsent(int left, int right, int rank) {
        long key = left * vocab + right;
        int i = hash(key) & mask;
        while (slots[i] != EMPTY) {
            if (slots[i] >>> RANK_BITS == key) {
                return;
            }
            i = (i + 1) & mask;
        }
        slots[i] = key << RANK_BITS | rank;
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 32);
    }
}
