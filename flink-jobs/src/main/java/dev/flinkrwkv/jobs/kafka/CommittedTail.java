package dev.flinkrwkv.jobs.kafka;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * Follows a topic as a {@code read_committed} consumer would, from its end at the start, and hands each
 * newly committed record's value to a callback on a daemon thread: what a downstream reader of a job's
 * exactly-once output sees, as it becomes visible (at each checkpoint). score-logs uses it to print flagged
 * lines ({@code --print-flagged}). {@link #close()} first reads up to the last committed record, so a
 * bounded job's final checkpoint is shown too.
 */
public final class CommittedTail implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<TopicPartition> partitions = new ArrayList<>();
    private final Consumer<byte[]> onRecord;
    private final Thread thread;
    private volatile boolean draining;

    private CommittedTail(String bootstrapServers, String topic, Consumer<byte[]> onRecord) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<PartitionInfo> infos = consumer.listTopics(Duration.ofSeconds(10)).get(topic);
        if (infos != null) {
            for (PartitionInfo i : infos) {
                partitions.add(new TopicPartition(topic, i.partition()));
            }
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);  // resolve the start now, before the job writes
        this.onRecord = onRecord;
        this.thread = new Thread(this::loop, "flink-rwkv-committed-tail");
        this.thread.setDaemon(true);
    }

    /** Starts following {@code topic} from its current end. */
    public static CommittedTail start(String bootstrapServers, String topic, Consumer<byte[]> onRecord) {
        CommittedTail t = new CommittedTail(bootstrapServers, topic, onRecord);
        t.thread.start();
        return t;
    }

    private void loop() {
        try {
            while (true) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    onRecord.accept(r.value());
                }
                if (draining && caughtUp()) {
                    return;
                }
            }
        } catch (WakeupException stopped) {
            // close() gave up waiting
        } finally {
            consumer.close(Duration.ofSeconds(1));
        }
    }

    /** Whether every partition is read up to its last stable offset. */
    private boolean caughtUp() {
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(5));
        for (TopicPartition tp : partitions) {
            if (consumer.position(tp) < end.get(tp)) {
                return false;
            }
        }
        return true;
    }

    /** Reads what is committed by now (up to 10 s), then stops. */
    @Override
    public void close() {
        draining = true;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            consumer.wakeup();
        }
    }
}
