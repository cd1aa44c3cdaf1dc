package dev.flinkrwkv.jobs.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkrwkv.jobs.logs.LineScore;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ObjIntConsumer;

/**
 * Follows score-logs' output topic as a downstream user would, with a {@code read_committed} consumer (so
 * it sees only what the exactly-once sink committed at a checkpoint), and files each score under the line
 * it belongs to: a score's {@code offset} in the one-partition input topic is the line's number. A callback
 * gets each score and its line number as it arrives (the demo prints the flagged ones).
 */
final class ScoreWatcher implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LineScore[] scores;
    private final AtomicInteger received = new AtomicInteger();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean stop;

    ScoreWatcher(String bootstrapServers, String topic, int lines, ObjIntConsumer<LineScore> onScore) {
        this.scores = new LineScore[lines];
        thread = new Thread(() -> run(bootstrapServers, topic, onScore), "demo-score-watcher");
        thread.setDaemon(true);
    }

    ScoreWatcher start() {
        thread.start();
        return this;
    }

    private void run(String bootstrapServers, String topic, ObjIntConsumer<LineScore> onScore) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            consumer.partitionsFor(topic, Duration.ofSeconds(30)).forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            while (!stop) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    LineScore s = parse(r.value());
                    if (s.offset >= 0 && s.offset < scores.length && scores[(int) s.offset] == null) {
                        scores[(int) s.offset] = s;
                        received.incrementAndGet();
                        onScore.accept(s, (int) s.offset);
                    }
                }
            }
        } catch (Exception e) {
            failure.set(e);
        }
    }

    /** score-logs' JSON line back into a {@link LineScore}. */
    static LineScore parse(byte[] json) throws IOException {
        JsonNode o = JSON.readTree(json);
        LineScore s = new LineScore(o.path("key").asText(), o.path("source").asText(), o.path("partition").asInt(),
                o.path("offset").asLong(), o.path("tokens").asInt(), o.path("mean_bits").asDouble(),
                o.has("max_bits") ? o.get("max_bits").asDouble() : Double.NaN, o.path("max_position").asInt(),
                o.path("baseline_mean").asDouble(), o.path("baseline_std").asDouble(), o.path("baseline_lines").asLong(),
                o.path("score").asDouble(), o.path("flagged").asBoolean());
        s.text = o.has("text") ? o.get("text").asText() : null;
        return s;
    }

    /** Line {@code i}'s score, or null if none has arrived. */
    LineScore score(int i) {
        return scores[i];
    }

    /** Lines with a score so far. */
    int received() {
        return received.get();
    }

    Exception failure() {
        return failure.get();
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(10_000);
    }
}
