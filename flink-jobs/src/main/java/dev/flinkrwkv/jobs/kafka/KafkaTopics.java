package dev.flinkrwkv.jobs.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Small blocking helpers over plain Kafka clients: write lines to a topic, and read a topic's committed
 * contents from the beginning. The demo uses them to feed input and show output; tests use them to compare
 * what a {@code read_committed} consumer sees.
 */
public final class KafkaTopics {
    private KafkaTopics() {}

    /** Sends each value (key null) to {@code topic} and waits until all are acknowledged. */
    public static void produce(String bootstrapServers, String topic, List<byte[]> values) {
        produce(bootstrapServers, topic, null, values);
    }

    /**
     * Sends each value with its key ({@code keys.get(i)}, may be null; {@code keys} null for no keys) to
     * {@code topic}, in order, and waits until all are acknowledged. Records of one key go to one partition.
     */
    public static void produce(String bootstrapServers, String topic, List<byte[]> keys, List<byte[]> values) {
        produce(bootstrapServers, topic, keys, values, null);
    }

    /**
     * {@link #produce(String, String, List, List)}; where {@code lengths.get(i)} is not null, value {@code i}
     * is only the start of a longer line of that many bytes, which the record's
     * {@link RawRecordDeserializer#LENGTH_HEADER} header says ({@code lengths} null for none).
     */
    public static void produce(String bootstrapServers, String topic, List<byte[]> keys, List<byte[]> values,
                               List<Long> lengths) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
            for (int i = 0; i < values.size(); i++) {
                ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, keys == null ? null : keys.get(i), values.get(i));
                Long length = lengths == null ? null : lengths.get(i);
                if (length != null) {
                    r.headers().add(RawRecordDeserializer.LENGTH_HEADER, Long.toString(length).getBytes(StandardCharsets.US_ASCII));
                }
                acks.add(producer.send(r));
            }
            producer.flush();
            for (var f : acks) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while producing to " + topic, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not produce to " + topic + ": " + e.getCause(), e);
        }
    }

    /** What a producer with default settings may send in one request (its {@code max.request.size}). */
    static final int PRODUCER_MAX_REQUEST_BYTES = 1_048_576;
    /** Room left in a record for the batch and record headers, the key and our length header. */
    static final int RECORD_OVERHEAD_BYTES = 1024;

    /**
     * The longest value {@link #produce} can send to {@code topic}: the smaller of the producer's request
     * limit and the topic's {@code max.message.bytes} (the broker's default if it cannot be read), less
     * room for the record's headers and key.
     */
    public static int maxValueBytes(String bootstrapServers, String topic) {
        int limit = PRODUCER_MAX_REQUEST_BYTES;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            ConfigEntry e = admin.describeConfigs(List.of(r)).all().get(10, TimeUnit.SECONDS).get(r).get("max.message.bytes");
            if (e != null && e.value() != null) {
                limit = Math.min(limit, Integer.parseInt(e.value()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // the producer's limit stands
        }
        return Math.max(1, limit - RECORD_OVERHEAD_BYTES);
    }

    /**
     * Waits until no transaction is open on any partition of {@code topic} (the last stable offset has
     * caught up with the high watermark: every transaction was committed or aborted and its markers are
     * written), then returns {@link #readCommitted}. This is the read to compare a finished job's output
     * with: a commit returns to the producer before its markers land, so an immediate read can miss it.
     */
    public static List<ConsumerRecord<byte[], byte[]>> readSettled(String bootstrapServers, String topic,
                                                                   Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> committed = consumer(bootstrapServers, "read_committed");
             KafkaConsumer<byte[], byte[]> uncommitted = consumer(bootstrapServers, "read_uncommitted")) {
            List<TopicPartition> parts = partitions(committed, topic, timeout);
            while (!parts.isEmpty() && !committed.endOffsets(parts, timeout).equals(uncommitted.endOffsets(parts, timeout))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("a transaction on " + topic + " is still open after " + timeout);
                }
                sleep(50);
            }
        }
        return readCommitted(bootstrapServers, topic, Duration.ofNanos(Math.max(deadline - System.nanoTime(), 1_000_000_000L)));
    }

    /**
     * Every record of {@code topic} that a {@code read_committed} consumer sees now, per partition in offset
     * order (partitions in index order). Reads up to the last stable offset, so records of open
     * transactions are not waited for; a topic that does not exist yet reads as empty.
     */
    public static List<ConsumerRecord<byte[], byte[]>> readCommitted(String bootstrapServers, String topic,
                                                                     Duration timeout) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrapServers, "read_committed")) {
            List<TopicPartition> parts = partitions(consumer, topic, timeout);
            if (parts.isEmpty()) {
                return out;
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            // Under read_committed, the end offsets are the last stable offsets.
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, timeout);
            Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> byPartition = new HashMap<>();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!reached(consumer, parts, end)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("timed out reading " + topic + " up to " + end);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    byPartition.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), k -> new ArrayList<>())
                            .add(r);
                }
            }
            for (TopicPartition tp : parts) {
                for (ConsumerRecord<byte[], byte[]> r : byPartition.getOrDefault(tp, List.of())) {
                    if (r.offset() < end.get(tp)) {
                        out.add(r);
                    }
                }
            }
        }
        return out;
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String bootstrapServers, String isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** The topic's partitions in index order; empty when the topic does not exist. */
    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic, Duration timeout) {
        List<TopicPartition> parts = new ArrayList<>();
        List<PartitionInfo> infos = consumer.listTopics(timeout).get(topic);
        if (infos != null) {
            for (PartitionInfo i : infos) {
                parts.add(new TopicPartition(topic, i.partition()));
            }
        }
        parts.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
        return parts;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static boolean reached(KafkaConsumer<?, ?> consumer, List<TopicPartition> parts,
                                   Map<TopicPartition, Long> end) {
        for (TopicPartition tp : parts) {
            if (consumer.position(tp) < end.get(tp)) {
                return false;
            }
        }
        return true;
    }
}
