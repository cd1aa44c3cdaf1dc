package dev.flinkrwkv.jobs.format;

import java.util.Arrays;
import java.util.Objects;

/**
 * One input record before parsing: the exact bytes of a Kafka record's value or of a file's line (without
 * its line terminator), and where it came from. A Flink POJO (public fields, no-argument constructor), so
 * Flink serializes it without Kryo.
 *
 * <p>Where it came from: for Kafka, {@code source} is the topic, {@code partition} the partition and
 * {@code offset} the record's offset; for a file, {@code source} is the file, {@code partition} is -1 and
 * {@code offset} is the line number, counted from 1.
 */
public class RawRecord {
    public String source;
    public int partition;
    public long offset;
    public byte[] value;
    /**
     * The record's real length in bytes where {@code value} holds only its start (a line too long to keep
     * whole, cut by the file reader or by {@code --feed}); -1 where {@code value} is the whole record.
     */
    public long length = -1;

    public RawRecord() {}

    public RawRecord(String source, int partition, long offset, byte[] value) {
        this.source = source;
        this.partition = partition;
        this.offset = offset;
        this.value = value;
    }

    /** A record of which only the first {@code value.length} of {@code length} bytes were kept. */
    public RawRecord(String source, int partition, long offset, byte[] value, long length) {
        this(source, partition, offset, value);
        this.length = length > value.length ? length : -1;
    }

    /** Whether {@code value} is only the start of the record. */
    public boolean truncated() {
        return length >= 0;
    }

    /** The record's real length in bytes. */
    public long size() {
        return truncated() ? length : value == null ? 0 : value.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RawRecord r && partition == r.partition && offset == r.offset && length == r.length
                && Objects.equals(source, r.source) && Arrays.equals(value, r.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(source, partition, offset) * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return source + (partition >= 0 ? "-" + partition : "") + "@" + offset + " (" + size() + " bytes)";
    }
}
