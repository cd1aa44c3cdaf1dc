package dev.flinkrwkv.jobs.format;

import java.util.Objects;

/**
 * A record that parsed: its key (which keyed state it belongs to), the text the model reads, the whole
 * JSON object when the input is JSON (the enrich job writes it back with fields added; null for plain
 * lines), and where it came from (see {@link RawRecord}). A Flink POJO.
 */
public class ParsedRecord {
    public String key;
    public String text;
    public String json;
    public String source;
    public int partition;
    public long offset;

    public ParsedRecord() {}

    public ParsedRecord(String key, String text, String json, String source, int partition, long offset) {
        this.key = key;
        this.text = text;
        this.json = json;
        this.source = source;
        this.partition = partition;
        this.offset = offset;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParsedRecord r && partition == r.partition && offset == r.offset
                && Objects.equals(key, r.key) && Objects.equals(text, r.text) && Objects.equals(json, r.json)
                && Objects.equals(source, r.source);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, text, json, source, partition, offset);
    }

    @Override
    public String toString() {
        return "ParsedRecord{key=" + key + ", text=" + text + ", at " + source + "-" + partition + "@" + offset + "}";
    }
}
