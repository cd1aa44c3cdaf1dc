package dev.flinkrwkv.jobs.kafka;

import dev.flinkrwkv.jobs.format.RawRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Kafka records to {@link RawRecord}s: the value's exact bytes (nothing is decoded here, so that a bad
 * record becomes a dead letter downstream instead of failing the source) with topic, partition and offset.
 */
public final class RawRecordDeserializer implements KafkaRecordDeserializationSchema<RawRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRecord> out) {
        out.collect(new RawRecord(record.topic(), record.partition(), record.offset(),
                record.value() == null ? new byte[0] : record.value()));
    }

    @Override
    public TypeInformation<RawRecord> getProducedType() {
        return TypeInformation.of(RawRecord.class);
    }
}
