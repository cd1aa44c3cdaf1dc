package dev.flinkrwkv.jobs.format;

/**
 * Where a record was read (see {@link RawRecord}), written as one string so that it can travel through the
 * RWKV operator as a result's tag: {@code partition|offset|source} (the source last, since a file name
 * may contain anything).
 */
public record RecordOrigin(String source, int partition, long offset) {
    public static String tag(ParsedRecord r) {
        return r.partition + "|" + r.offset + "|" + r.source;
    }

    public static RecordOrigin parse(String tag) {
        int a = tag.indexOf('|');
        int b = tag.indexOf('|', a + 1);
        if (a < 0 || b < 0) {
            throw new IllegalArgumentException("not a record origin: " + tag);
        }
        return new RecordOrigin(tag.substring(b + 1), Integer.parseInt(tag.substring(0, a)),
                Long.parseLong(tag.substring(a + 1, b)));
    }
}
