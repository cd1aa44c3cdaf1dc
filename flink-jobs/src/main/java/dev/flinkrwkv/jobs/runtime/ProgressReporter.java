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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Prints a progress line every few seconds while a job runs: records read, dead letters, records written,
 * tokens per second over the last interval, and for a Kafka input the consumer lag (the input topic's end
 * offsets minus the offsets the job committed at its last checkpoint). The counts are the job's accumulators
 * ({@link JobCount}) as its client reports them: the same on the embedded cluster and on a real one (through
 * its REST API), as of the TaskManagers' last heartbeat to the JobManager, which carries them.
 */
public final class ProgressReporter implements AutoCloseable {
    private final PrintStream out;
    private final long intervalMs;
    private final Supplier<CompletableFuture<Map<String, Object>>> accumulators;
    private final String bootstrapServers;  // null: no lag (file input)
    private final String topic;
    private final String groupId;
    private final Thread thread;
    private Admin admin;
    private volatile boolean stop;
    private long lastTokens = -1;
    private long lastNanos;

    /**
     * {@code accumulators}: the running job's accumulators, as {@code JobClient::getAccumulators} gives them;
     * {@code bootstrapServers} null for no lag (a file input).
     */
    public ProgressReporter(PrintStream out, long intervalMs, Supplier<CompletableFuture<Map<String, Object>>> accumulators,
                            String bootstrapServers, String topic, String groupId) {
        this.out = out;
        this.intervalMs = intervalMs;
        this.accumulators = accumulators;
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
        while (!stop) {
            try {
                Thread.sleep(intervalMs);
            } catch (InterruptedException e) {
                return;
            }
            out.println(line(System.nanoTime()));
        }
    }

    /** The progress line for the time {@code nanos}; the tokens per second are since the previous line. */
    String line(long nanos) {
        String lag = lag();
        String suffix = lag == null ? "" : ", lag " + lag;
        Map<String, Object> acc;
        try {
            acc = accumulators.get().get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "progress: interrupted";
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            // a job that is restarting or not yet running answers with an error: no counts this time
            return "progress: counts not available now" + suffix;
        }
        long tokens = JobCount.total(acc, JobCount.TOKENS);
        // After a recovery the token count restarts from zero: no rate for that interval.
        String rate = lastTokens < 0 || tokens < lastTokens ? ""
                : String.format(Locale.ROOT, ", %,.0f tokens/s", (tokens - lastTokens) / ((nanos - lastNanos) / 1e9));
        lastTokens = tokens;
        lastNanos = nanos;
        return String.format(Locale.ROOT, "progress: %,d records in, %,d dead letters, %,d out%s%s",
                JobCount.total(acc, JobCount.RECORDS_IN), JobCount.total(acc, JobCount.DEAD_LETTERS),
                JobCount.total(acc, JobCount.RECORDS_OUT), rate, suffix);
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
