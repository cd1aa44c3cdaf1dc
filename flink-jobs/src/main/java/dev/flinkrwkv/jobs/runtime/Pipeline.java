package dev.flinkrwkv.jobs.runtime;

import dev.flinkrwkv.jobs.format.ParsedRecord;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.util.function.SerializableFunction;

/**
 * What one job computes, between the shared input side (source, parsing, dead letters) and the shared
 * output side (exactly-once sink) that {@link JobTopology} builds around it. For the three jobs this is
 * {@code keyBy(record.key)}, the keyed RWKV operator, and a step that turns its output into the job's
 * output records.
 *
 * @param <T> the job's output record
 */
public interface Pipeline<T> {
    /** The job's steps on the parsed records. */
    DataStream<T> build(DataStream<ParsedRecord> parsed);

    /** The Kafka key of an output record (its key, so that a key's outputs stay in order in one partition). */
    SerializableFunction<T, byte[]> outputKey();

    /** The bytes of an output record (one line of JSON). */
    SerializableFunction<T, byte[]> outputValue();
}
