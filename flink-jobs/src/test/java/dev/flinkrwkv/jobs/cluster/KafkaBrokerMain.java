package dev.flinkrwkv.jobs.cluster;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * A Kafka broker (KRaft, broker and controller in one) in its own JVM, for the cluster test: Kafka's own
 * server main on a properties file. Unlike the in-process broker of the command line
 * ({@link dev.flinkrwkv.jobs.kafka.EmbeddedKafka}, random ports and a log directory deleted on close), it
 * keeps its ports and its log directory, so that the test can kill it with SIGKILL and start it again on the
 * same data, as a real broker restarts.
 *
 * <p>{@code KafkaBrokerMain SERVER_PROPERTIES CLUSTER_ID}: formats the log directory on the first start, then runs.
 */
public final class KafkaBrokerMain {
    private KafkaBrokerMain() {}

    public static void main(String[] args) throws Exception {
        Path props = Path.of(args[0]);
        Properties p = new Properties();
        try (var in = Files.newInputStream(props)) {
            p.load(in);
        }
        Path logDir = Path.of(p.getProperty("log.dirs"));
        if (!Files.exists(logDir.resolve("meta.properties"))) {
            int rc = kafka.tools.StorageTool.execute(new String[] {"format", "-t", args[1],
                    "-c", props.toString(), "--ignore-formatted"}, new PrintStream(System.out, true));
            if (rc != 0) {
                System.err.println("formatting " + logDir + " failed: " + rc);
                System.exit(rc);
            }
        }
        kafka.Kafka.main(new String[] {props.toString()});
    }
}
