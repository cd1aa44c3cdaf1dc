package dev.flinkrwkv.jobs.io;

import dev.flinkrwkv.jobs.kafka.KafkaConnectors;
import org.apache.flink.api.common.serialization.Encoder;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;
import org.apache.flink.util.function.SerializableFunction;

import java.nio.file.Path;

/**
 * Where a job writes, exactly once: a Kafka topic (transactions committed at checkpoints, see
 * {@link KafkaConnectors}) or a directory of files (Flink's file sink: part files become visible, renamed
 * from in-progress, when a checkpoint completes). Each record is one line of bytes (JSON, for the jobs).
 */
public abstract class Output {
    private Output() {}

    /**
     * Writes {@code stream}; {@code key} gives the Kafka key (keeps a key's records in one partition, in
     * order; ignored for files), {@code value} the record's bytes. {@code name} names the operator and
     * makes the transactional id unique within the job.
     */
    public abstract <T> void write(DataStream<T> stream, SerializableFunction<T, byte[]> key,
                                   SerializableFunction<T, byte[]> value, String name);

    public abstract String describe();

    /**
     * {@code transactionalIdPrefix}: stable across restarts of this job, unique among jobs writing to the
     * same cluster; each output of the job adds its {@code name}.
     */
    public static Output kafka(String bootstrapServers, String topic, String transactionalIdPrefix) {
        return new Output() {
            @Override
            public <T> void write(DataStream<T> stream, SerializableFunction<T, byte[]> key,
                                  SerializableFunction<T, byte[]> value, String name) {
                stream.sinkTo(KafkaConnectors.exactlyOnceSink(bootstrapServers, topic, transactionalIdPrefix + "-" + name, key, value))
                        .name(name + ":kafka:" + topic).uid(name + "-kafka-sink");
            }

            @Override
            public String describe() {
                return "Kafka topic " + topic + " at " + bootstrapServers + " (exactly once, transactional id prefix "
                        + transactionalIdPrefix + ")";
            }
        };
    }

    /**
     * Files {@code part-<uuid>-<n>.jsonl} directly under {@code dir}, a new one at each checkpoint, visible
     * once the checkpoint completes; written by one writer so that each key's records stay in order. Within
     * one {@code <uuid>}, {@code n} counts the files in write order; the sink starts a new {@code <uuid>}
     * (from {@code n} = 0) when it resumes after an interval without records, so read the files in order
     * of modification time to get them in write order.
     */
    public static Output files(Path dir) {
        return new Output() {
            @Override
            public <T> void write(DataStream<T> stream, SerializableFunction<T, byte[]> key,
                                  SerializableFunction<T, byte[]> value, String name) {
                FileSink<byte[]> sink = FileSink.forRowFormat(new org.apache.flink.core.fs.Path(dir.toAbsolutePath().toUri()),
                                (Encoder<byte[]>) (line, out) -> {
                                    out.write(line);
                                    out.write('\n');
                                })
                        .withBucketAssigner(new BasePathBucketAssigner<>())
                        .withRollingPolicy(OnCheckpointRollingPolicy.build())
                        .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix("part").withPartSuffix(".jsonl").build())
                        .build();
                stream.map(value::apply).returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO).name(name + ":encode").setParallelism(1)
                        .sinkTo(sink).name(name + ":files:" + dir.getFileName()).uid(name + "-file-sink").setParallelism(1);
            }

            @Override
            public String describe() {
                return "files under " + dir.toAbsolutePath() + " (exactly once: visible at each checkpoint)";
            }
        };
    }
}
