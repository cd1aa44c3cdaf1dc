package dev.flinkrwkv.jobs.enrich;

/** The enrich job's output record: the input record's key and its JSON with the added field. A Flink POJO. */
public class EnrichedRecord {
    public String key;
    public String json;

    public EnrichedRecord() {}

    public EnrichedRecord(String key, String json) {
        this.key = key;
        this.json = json;
    }

    @Override
    public String toString() {
        return json;
    }
}
