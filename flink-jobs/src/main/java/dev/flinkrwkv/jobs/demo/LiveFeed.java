package dev.flinkrwkv.jobs.demo;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The demo's live source: a thread that produces the generator's lines (text only, never the label) into a
 * Kafka topic at a steady rate, line {@code i} at {@code start + i / rate}, so the job sees a stream
 * arriving while it runs rather than a backlog. One partition and no key: the topic's offsets are the line
 * numbers, which is how the demo matches scores back to labels.
 */
final class LiveFeed implements AutoCloseable {
    private final Thread thread;
    private final AtomicInteger produced = new AtomicInteger();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private volatile boolean stop;

    LiveFeed(String bootstrapServers, String topic, List<SyntheticLogs.Line> lines, double linesPerSecond) {
        if (!(linesPerSecond > 0)) {
            throw new IllegalArgumentException("rate must be > 0 lines per second: " + linesPerSecond);
        }
        thread = new Thread(() -> run(bootstrapServers, topic, lines, linesPerSecond), "demo-live-feed");
        thread.setDaemon(true);
    }

    LiveFeed start() {
        thread.start();
        return this;
    }

    private void run(String bootstrapServers, String topic, List<SyntheticLogs.Line> lines, double rate) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");  // no duplicates on retries: offsets stay line numbers
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            long start = System.nanoTime();
            for (int i = 0; i < lines.size() && !stop; i++) {
                long due = start + (long) (i * 1e9 / rate);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                producer.send(new ProducerRecord<>(topic, 0, null, lines.get(i).text().getBytes(StandardCharsets.UTF_8))).get();
                produced.incrementAndGet();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            failure.set(e);
        }
    }

    /** Lines acknowledged by the broker so far. */
    int produced() {
        return produced.get();
    }

    /** The error that stopped the feed, or null. */
    Exception failure() {
        return failure.get();
    }

    boolean done() {
        return !thread.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(TimeUnit.SECONDS.toMillis(30));
    }
}
