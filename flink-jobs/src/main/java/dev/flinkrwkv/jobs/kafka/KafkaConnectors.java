package dev.flinkrwkv.jobs.kafka;

import dev.flinkrwkv.jobs.format.RawRecord;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The Kafka source and exactly-once sink every job uses.
 *
 * <p><b>Exactly-once.</b> The sink writes each checkpoint interval's output in a Kafka transaction under a
 * stable transactional-id prefix and commits it when the checkpoint completes; after a failure, the job
 * restarts from the last checkpoint, aborts the unfinished transactions of that prefix and writes the
 * replayed records again. A {@code read_committed} consumer therefore sees every output record once.
 * The prefix must be unique per job (two jobs sharing one would fence each other) and stable across
 * restarts of the same job. The source reads {@code read_committed} too, so a job can consume another
 * job's exactly-once output.
 */
public final class KafkaConnectors {
    /**
     * The transaction timeout asked for: longer than any checkpoint interval plus restart, and within a
     * stock broker's {@code transaction.max.timeout.ms} (15 minutes).
     */
    public static final int TRANSACTION_TIMEOUT_MS = 600_000;

    private KafkaConnectors() {}

    /**
     * Reads {@code topic} from the group's committed offsets (the source commits them at each checkpoint),
     * or from the earliest offset for a new group; a job recovering from a checkpoint resumes from the
     * checkpoint's offsets regardless. With {@code bounded}, stops at the offsets that are latest when the
     * job starts.
     */
    public static KafkaSource<RawRecord> source(String bootstrapServers, String topic, String groupId, boolean bounded) {
        var b = KafkaSource.<RawRecord>builder()
                .setBootstrapServers(bootstrapServers)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new RawRecordDeserializer())
                .setProperty("isolation.level", "read_committed");
        if (bounded) {
            b.setBounded(OffsetsInitializer.latest());
        }
        return b.build();
    }

    /**
     * An exactly-once sink into {@code topic}. {@code key} gives each record's Kafka key (records of one
     * key go to one partition, so their order is kept; null for no key), {@code value} its bytes.
     */
    public static <T> KafkaSink<T> exactlyOnceSink(String bootstrapServers, String topic, String transactionalIdPrefix,
                                                   SerializableFunction<T, byte[]> key, SerializableFunction<T, byte[]> value) {
        return KafkaSink.<T>builder()
                .setBootstrapServers(bootstrapServers)
                .setRecordSerializer(new Serializer<>(topic, key, value))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(transactionalIdPrefix)
                .setProperty("transaction.timeout.ms", String.valueOf(TRANSACTION_TIMEOUT_MS))
                .build();
    }

    /**
     * Fails fast, with a message that names the address, when no broker answers at {@code bootstrapServers}
     * within {@code timeoutMs} (a job would otherwise retry quietly for minutes).
     */
    public static void checkReachable(String bootstrapServers, long timeoutMs) {
        Map<String, Object> conf = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeoutMs,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeoutMs);
        try (Admin admin = Admin.create(conf)) {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) timeoutMs)).nodes().get(timeoutMs + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while connecting to Kafka at " + bootstrapServers, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot reach Kafka at " + bootstrapServers + " (no answer within " + timeoutMs
                    + " ms); check --bootstrap-servers, or leave it out to use the embedded broker", e);
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new IllegalStateException("invalid Kafka address '" + bootstrapServers + "': " + e.getMessage(), e);
        }
    }

    private static final class Serializer<T> implements KafkaRecordSerializationSchema<T> {
        private static final long serialVersionUID = 1L;
        private final String topic;
        private final SerializableFunction<T, byte[]> key;
        private final SerializableFunction<T, byte[]> value;

        Serializer(String topic, SerializableFunction<T, byte[]> key, SerializableFunction<T, byte[]> value) {
            this.topic = topic;
            this.key = key;
            this.value = value;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
            return new ProducerRecord<>(topic, null, null, key == null ? null : key.apply(element), value.apply(element));
        }
    }
}
