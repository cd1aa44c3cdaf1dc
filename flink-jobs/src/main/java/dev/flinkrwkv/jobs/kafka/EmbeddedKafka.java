package dev.flinkrwkv.jobs.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

/**
 * A real single-node Kafka broker (KRaft, broker and controller combined, no ZooKeeper) running inside this
 * JVM on a random loopback port, for the demo when no {@code --bootstrap-servers} is given, and for tests.
 *
 * <p>It is Kafka's own server code ({@code KafkaClusterTestKit}), so transactions and {@code read_committed}
 * behave exactly as on a real cluster: the exactly-once sink can be shown and tested against it. The
 * internal topics are set to a replication factor of 1 (there is one broker), and the broker accepts
 * transaction timeouts up to one hour (Flink's sink keeps transactions open across a checkpoint interval).
 * Its log directories are temporary and deleted on {@link #close()}; nothing survives the process.
 */
public final class EmbeddedKafka implements AutoCloseable {
    /** The longest transaction timeout a producer may ask for, in ms. */
    public static final int MAX_TRANSACTION_TIMEOUT_MS = 3_600_000;

    private final KafkaClusterTestKit cluster;
    private final String bootstrapServers;

    private EmbeddedKafka(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
        this.bootstrapServers = cluster.bootstrapServers();
    }

    /**
     * Fails with a one-line message when the broker's classes are not on the class path: the job jar for
     * {@code flink run} (flink-rwkv-job.jar) leaves them out; only the command line's flink-rwkv.jar has them.
     */
    public static void requireBroker() {
        try {
            Class.forName("org.apache.kafka.common.test.KafkaClusterTestKit", false, EmbeddedKafka.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalStateException("the embedded Kafka broker is not in this jar: use flink-rwkv.jar"
                    + " (bin/flink-rwkv) for it; flink-rwkv-job.jar is for flink run with a real broker (--bootstrap-servers)");
        }
    }

    /** Formats and starts the broker and waits until it serves requests (about 5 s in a cold JVM). */
    public static EmbeddedKafka start() {
        requireBroker();
        KafkaClusterTestKit cluster = null;
        try {
            cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .build())
                    .setConfigProp("offsets.topic.replication.factor", "1")
                    .setConfigProp("offsets.topic.num.partitions", "1")
                    .setConfigProp("transaction.state.log.replication.factor", "1")
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .setConfigProp("transaction.state.log.num.partitions", "1")
                    .setConfigProp("transaction.max.timeout.ms", String.valueOf(MAX_TRANSACTION_TIMEOUT_MS))
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .build();
            formatQuietly(cluster);
            cluster.startup();
            cluster.waitForReadyBrokers();
            return new EmbeddedKafka(cluster);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(cluster);
            throw new IllegalStateException("interrupted while starting the embedded Kafka broker", e);
        } catch (Exception e) {
            closeQuietly(cluster);
            throw new IllegalStateException("could not start the embedded Kafka broker: " + e, e);
        }
    }

    /** Formats the log directories; Kafka's formatter prints its bootstrap metadata on stdout, which is noise here. */
    private static void formatQuietly(KafkaClusterTestKit cluster) throws Exception {
        java.io.PrintStream stdout = System.out;
        System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        try {
            cluster.format();
        } finally {
            System.setOut(stdout);
        }
    }

    /** {@code host:port} of the broker, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The line the command line prints at start, so that a user can point other clients at the broker. */
    public String describe() {
        return "embedded Kafka broker (KRaft, single node, in this process) at " + bootstrapServers
                + "; its data is deleted when the process ends";
    }

    /** Creates each topic (if absent) with {@code partitions} partitions and a replication factor of 1. */
    public void createTopics(int partitions, String... topics) {
        List<NewTopic> newTopics = new ArrayList<>();
        for (String t : topics) {
            newTopics.add(new NewTopic(t, partitions, (short) 1));
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            for (var e : admin.createTopics(newTopics).values().entrySet()) {
                try {
                    e.getValue().get();
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("could not create topic " + e.getKey() + ": " + ex.getCause(), ex);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        }
    }

    /** Stops the broker and deletes its data. */
    @Override
    public void close() {
        closeQuietly(cluster);
    }

    private static void closeQuietly(KafkaClusterTestKit cluster) {
        if (cluster == null) {
            return;
        }
        try {
            cluster.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // Shutting down a broker that failed half-way can throw; the start error is what matters.
        }
    }
}
