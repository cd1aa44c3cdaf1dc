package dev.flinkrwkv.jobs.kafka;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddedKafkaTest {
    private static EmbeddedKafka kafka;

    @BeforeAll
    static void start() {
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void listensOnLoopbackAndRoundTripsRecords() {
        assertTrue(kafka.bootstrapServers().matches("(localhost|127\\.0\\.0\\.1):\\d+"), kafka.bootstrapServers());
        assertTrue(kafka.describe().contains(kafka.bootstrapServers()));
        kafka.createTopics(2, "plain");
        kafka.createTopics(2, "plain"); // idempotent
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            values.add(("v" + i).getBytes(StandardCharsets.UTF_8));
        }
        KafkaTopics.produce(kafka.bootstrapServers(), "plain", values);
        List<String> read = strings(KafkaTopics.readSettled(kafka.bootstrapServers(), "plain", Duration.ofSeconds(30)));
        assertEquals(List.of("v0", "v1", "v2", "v3", "v4"), read.stream().sorted().toList());
    }

    @Test
    void transactionalRecordsAreVisibleToReadCommittedOnlyAfterCommit() {
        kafka.createTopics(1, "tx");
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "embedded-kafka-test");
        try (var producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("tx", "a1"));
            producer.send(new ProducerRecord<>("tx", "a2"));
            producer.abortTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>("tx", "c1"));
            producer.send(new ProducerRecord<>("tx", "c2"));
            producer.flush();
            // Written but not committed: invisible to read_committed.
            assertEquals(List.of(), strings(KafkaTopics.readCommitted(kafka.bootstrapServers(), "tx", Duration.ofSeconds(30))));
            producer.commitTransaction();
        }
        assertEquals(List.of("c1", "c2"),
                strings(KafkaTopics.readSettled(kafka.bootstrapServers(), "tx", Duration.ofSeconds(30))));
    }

    private static List<String> strings(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
    }
}
