package dev.flinkrwkv.jobs.cluster;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The test's Kafka broker ({@link KafkaBrokerMain}) as a child process on two fixed free loopback ports, its
 * data in {@code dir}: {@link #kill()} is SIGKILL, {@link #start()} again brings it back on the same ports
 * and data.
 */
final class KafkaBrokerProcess {
    private final ChildProcesses processes;
    private final Path dir;
    private final Path properties;
    private final String clusterId = Uuid.randomUuid().toString();
    private final int port;
    private Process process;

    KafkaBrokerProcess(ChildProcesses processes, Path dir) throws IOException {
        this.processes = processes;
        this.dir = Files.createDirectories(dir);
        this.port = FreePorts.next();
        int controllerPort = FreePorts.next();
        this.properties = dir.resolve("server.properties");
        Files.writeString(properties, String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + dir.resolve("data").toAbsolutePath(),
                "num.partitions=2",
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=1",
                "group.initial.rebalance.delay.ms=0",
                ""));
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** Starts the broker (formatting its data directory the first time) and waits until it answers (2 min at most). */
    void start() throws IOException, InterruptedException {
        List<String> jvm = List.of("-Xmx384m", "-Dlog4j2.configurationFile=" + dir.resolve("log4j2.xml"));
        Files.writeString(dir.resolve("log4j2.xml"), FlinkStandaloneCluster.LOG4J_WARN);
        process = processes.startJava(jvm, String.join(java.io.File.pathSeparator, ChildProcesses.testClassPath()),
                KafkaBrokerMain.class.getName(), List.of(properties.toString(), clusterId), Map.of(), dir.resolve("broker.log"));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError("the broker exited with " + process.exitValue() + "; see " + dir.resolve("broker.log"));
            }
            try (Admin admin = admin(5_000)) {
                admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                return;
            } catch (Exception notYet) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the broker did not answer within 2 minutes; see " + dir.resolve("broker.log"));
                }
                Thread.sleep(500);
            }
        }
    }

    /** SIGKILL to the broker, as a machine that dies. */
    void kill() throws InterruptedException {
        ChildProcesses.kill(process);
    }

    void createTopics(int partitions, String... topics) throws Exception {
        List<NewTopic> t = new ArrayList<>();
        for (String name : topics) {
            t.add(new NewTopic(name, partitions, (short) 1));
        }
        try (Admin admin = admin(30_000)) {
            admin.createTopics(t).all().get(60, TimeUnit.SECONDS);
        }
    }

    private Admin admin(int timeoutMs) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs));
    }
}
