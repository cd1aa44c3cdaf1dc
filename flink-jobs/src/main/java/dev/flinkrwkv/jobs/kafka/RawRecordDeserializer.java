package dev.flinkrwkv.jobs.kafka;

import dev.flinkrwkv.jobs.format.RawRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import java.nio.charset.StandardCharsets;

/**
 * Kafka records to {@link RawRecord}s: the value's exact bytes (nothing is decoded here, so that a bad
 * record becomes a dead letter downstream instead of failing the source) with topic, partition and offset.
 */
public final class RawRecordDeserializer implements KafkaRecordDeserializationSchema<RawRecord> {
    private static final long serialVersionUID = 1L;
    /**
     * A record header giving the real length in bytes of a line of which the record holds only the start
     * ({@code --feed} cuts lines longer than a Kafka record may be), so that its dead letter states it.
     */
    public static final String LENGTH_HEADER = "flink-rwkv-length";

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRecord> out) {
        byte[] value = record.value() == null ? new byte[0] : record.value();
        Header length = record.headers().lastHeader(LENGTH_HEADER);
        long size = -1;
        if (length != null) {
            try {
                size = Long.parseLong(new String(length.value(), StandardCharsets.US_ASCII));
            } catch (NumberFormatException ignored) {
                // not ours: the value is taken as it is
            }
        }
        out.collect(new RawRecord(record.topic(), record.partition(), record.offset(), value, size));
    }

    @Override
    public TypeInformation<RawRecord> getProducedType() {
        return TypeInformation.of(RawRecord.class);
    }
}
