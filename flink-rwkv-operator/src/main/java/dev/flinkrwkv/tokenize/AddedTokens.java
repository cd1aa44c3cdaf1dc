package dev.flinkrwkv.tokenize;


/**
 * The added tokens of a BPE tokenizer, as a trie over UTF-16 characters: which one, if any, starts at a
 * position of a text (the longest). A text's characters that start no added token cost one bit test.
 */
final class AddedTokens {
    private final long[] firstChars = new long[1 << 10];
    /** (node << 16 | char) to child node; node 0 is the root. */
    private final LongIntMap children = new LongIntMap(16);
    private int[] tokenAt = {-1};
    private int nodes = 1;

    void add(String content, int id) {
        char first = content.charAt(0);
        firstChars[first >>> 6] |= 1L << first;
        int node = 0;
        for (int i = 0; i < content.length(); i++) {
            long key = (long) node << 16 | content.charAt(i);
            int child = children.get(key);
            if (child < 0) {
                child = nodes++;
                children.put(key, child);
                if (child >= tokenAt.length) {
                    int old = tokenAt.length;
                    tokenAt = java.util.Arrays.copyOf(tokenAt, old * 2);
                    java.util.Arrays.fill(tokenAt, old, tokenAt.length, -1);
                }
            }
            node = child;
        }
        tokenAt[node] = id;
    }

    /**
     * The longest added token that starts at {@code s[i]} and ends by {@code to}, as {@code id << 32 | length};
     * 0 for none.
     */
    long matchAt(String s, int i, int to) {
        char first = s.charAt(i);
        if ((firstChars[first >>> 6] & 1L << first) == 0) {
            return 0;
        }
        long best = 0;
        int node = 0;
        for (int j = i; j < to; j++) {
            node = children.get((long) node << 16 | s.charAt(j));
            if (node < 0) {
                break;
            }
            if (tokenAt[node] >= 0) {
                best = (long) tokenAt[node] << 32 | (j + 1 - i);
            }
        }
        return best;
    }

    static int id(long match) {
        return (int) (match >>> 32);
    }

    static int length(long match) {
        return (int) match;
    }
}
