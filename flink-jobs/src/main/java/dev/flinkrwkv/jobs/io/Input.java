package dev.flinkrwkv.jobs.io;

import dev.flinkrwkv.jobs.format.RawRecord;
import dev.flinkrwkv.jobs.kafka.KafkaConnectors;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.nio.file.Path;

/** Where a job reads its records: a Kafka topic or a file (a file is read once, to its end). */
public abstract class Input {
    private Input() {}

    /** The raw records, as a stream of the job. */
    public abstract DataStream<RawRecord> open(StreamExecutionEnvironment env);

    /** One line for the console. */
    public abstract String describe();

    /** {@code bounded}: stop at the end offsets seen at start (for tests and one-off runs). */
    public static Input kafka(String bootstrapServers, String topic, String groupId, boolean bounded) {
        return new Input() {
            @Override
            public DataStream<RawRecord> open(StreamExecutionEnvironment env) {
                return env.fromSource(KafkaConnectors.source(bootstrapServers, topic, groupId, bounded),
                        WatermarkStrategy.noWatermarks(), "kafka:" + topic);
            }

            @Override
            public String describe() {
                return "Kafka topic " + topic + " at " + bootstrapServers + (bounded ? " (up to its current end)" : "");
            }
        };
    }

    /** Lines of a file (or of every file in a directory); {@code maxBytes} as the parser's maximum. */
    public static Input file(Path path, int maxBytes) {
        return new Input() {
            @Override
            public DataStream<RawRecord> open(StreamExecutionEnvironment env) {
                FileSource<RawRecord> src = FileSource.forRecordStreamFormat(
                        new ByteLineFormat(path.toString(), maxBytes),
                        new org.apache.flink.core.fs.Path(path.toAbsolutePath().toUri())).build();
                return env.fromSource(src, WatermarkStrategy.noWatermarks(), "file:" + path.getFileName());
            }

            @Override
            public String describe() {
                return "file " + path.toAbsolutePath();
            }
        };
    }
}
