package dev.flinkrwkv.jobs.runtime;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Prints a progress line every few seconds while a job runs: records read, dead letters, records written,
 * tokens per second over the last interval, and for a Kafka input the consumer lag (the input topic's end
 * offsets minus the offsets the job committed at its last checkpoint). The counts are this process's
 * {@link JobProgress} counters, which only the embedded cluster's tasks add to; for a job on a cluster the
 * line has the lag only and points to the web UI, where the job's metrics and accumulators are.
 */
public final class ProgressReporter implements AutoCloseable {
    private final PrintStream out;
    private final long intervalMs;
    private final boolean localCounts;
    private final String bootstrapServers;  // null: no lag (file input)
    private final String topic;
    private final String groupId;
    private final Thread thread;
    private Admin admin;
    private volatile boolean stop;

    /** {@code localCounts}: the job's tasks run in this process (the embedded cluster), so its counters are the job's. */
    public ProgressReporter(PrintStream out, long intervalMs, boolean localCounts, String bootstrapServers, String topic, String groupId) {
        this.out = out;
        this.intervalMs = intervalMs;
        this.localCounts = localCounts;
        this.bootstrapServers = bootstrapServers;
        this.topic = topic;
        this.groupId = groupId;
        this.thread = new Thread(this::loop, "flink-rwkv-progress");
        this.thread.setDaemon(true);
    }

    public ProgressReporter start() {
        thread.start();
        return this;
    }

    private void loop() {
        long lastTokens = JobProgress.TOKENS.sum();
        long lastT = System.nanoTime();
        while (!stop) {
            try {
                Thread.sleep(intervalMs);
            } catch (InterruptedException e) {
                return;
            }
            long tokens = JobProgress.TOKENS.sum();
            long now = System.nanoTime();
            double rate = (tokens - lastTokens) / ((now - lastT) / 1e9);
            lastTokens = tokens;
            lastT = now;
            out.println(line(rate));
        }
    }

    /** The progress line for now, with {@code tokensPerSecond} measured by the caller. */
    String line(double tokensPerSecond) {
        String lag = lag();
        if (!localCounts) {
            return "progress: running on the cluster (counts in its web UI)" + (lag == null ? "" : ", lag " + lag);
        }
        return String.format(Locale.ROOT, "progress: %,d records in, %,d dead letters, %,d out, %,.0f tokens/s%s",
                JobProgress.RECORDS_IN.sum(), JobProgress.DEAD_LETTERS.sum(), JobProgress.RECORDS_OUT.sum(), tokensPerSecond,
                lag == null ? "" : ", lag " + lag);
    }

    /** Input records not yet covered by a checkpoint, or null when unknown. */
    String lag() {
        if (bootstrapServers == null) {
            return null;
        }
        try {
            if (admin == null) {
                admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
            }
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                    .partitionsToOffsetAndMetadata().get(5, TimeUnit.SECONDS);
            var partitions = admin.describeTopics(java.util.List.of(topic)).allTopicNames().get(5, TimeUnit.SECONDS)
                    .get(topic).partitions();
            Map<TopicPartition, OffsetSpec> query = new HashMap<>();
            for (var p : partitions) {
                query.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
            }
            long lag = 0;
            for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> e
                    : admin.listOffsets(query).all().get(5, TimeUnit.SECONDS).entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                lag += e.getValue().offset() - (c == null ? 0 : c.offset());
            }
            return String.format(Locale.ROOT, "%,d", lag);
        } catch (Exception e) {
            return "?";
        }
    }

    @Override
    public void close() {
        stop = true;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (admin != null) {
            admin.close();
        }
    }
}
