package dev.flinkrwkv.operator;

/** An input record waiting in the operator's buffer: its key, tokens, tag and timestamp. */
final class PendingRecord {
    static final long NO_TIMESTAMP = Long.MIN_VALUE;

    final Object key;
    final int[] tokens;
    final String tag;
    final long timestamp;

    PendingRecord(Object key, int[] tokens, String tag, long timestamp) {
        this.key = key;
        this.tokens = tokens;
        this.tag = tag;
        this.timestamp = timestamp;
    }
}
