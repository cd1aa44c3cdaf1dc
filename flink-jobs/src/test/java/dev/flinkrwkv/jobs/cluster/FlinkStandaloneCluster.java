package dev.flinkrwkv.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Flink standalone session cluster of separate JVMs on loopback: one JobManager
 * ({@code StandaloneSessionClusterEntrypoint}) and TaskManagers ({@code TaskManagerRunner}), started the way
 * Flink's scripts start them (the configuration directory holds {@code config.yaml}; a JVM's options are
 * {@code env.java.opts.all}, Flink's Java 17 flags as its distribution sets them, followed by the
 * TaskManager's or the client's own, where the Vector API module is added), from the Flink jars on the test's
 * class path. Jobs are submitted with Flink's own client, {@code CliFrontend}, in its own JVM, as
 * {@code bin/flink run} does; the REST API serves job states, checkpoint counts, cancel and stop-with-savepoint.
 *
 * <p>The cluster's class path is Flink's side only: the test class path without our classes, the Kafka
 * connector and client and JCuda, which the job jar carries (as {@code flink-rwkv-job.jar} does).
 */
final class FlinkStandaloneCluster {
    /** Flink's Java 17 flags, as its distribution's config.yaml sets them in {@code env.java.opts.all}. */
    static final String JAVA17_FLAGS = String.join(" ",
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED", "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED", "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");
    /** What this project adds: the Vector API module for the matrix kernel. */
    static final String OUR_JAVA_OPTS = "--add-modules jdk.incubator.vector";

    static final String LOG4J_WARN = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Configuration status="WARN">
              <Appenders><Console name="out" target="SYSTEM_OUT">
                <PatternLayout pattern="%d{HH:mm:ss.SSS} %-5level [%t] %c{1} - %msg%n"/></Console></Appenders>
              <Loggers>
                <Logger name="org.apache.flink.runtime.executiongraph.ExecutionGraph" level="INFO"/>
                <Logger name="org.apache.flink.runtime.checkpoint.CheckpointCoordinator" level="INFO"/>
                <Logger name="org.apache.flink.runtime.resourcemanager" level="INFO"/>
                <Logger name="org.apache.flink.metrics" level="ERROR"/>
                <Logger name="org.apache.flink.runtime.metrics" level="ERROR"/>
                <Logger name="org.apache.kafka.clients.NetworkClient" level="ERROR"/>
                <Root level="WARN"><AppenderRef ref="out"/></Root>
              </Loggers>
            </Configuration>
            """;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ChildProcesses processes;
    private final Path dir;
    private final Path confDir;
    private final int restPort;
    private final String classPath;
    private final Map<String, Process> taskManagers = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private int taskManagerCount;

    /**
     * Writes the configuration; {@code jobJarClassPath} (entries that go into the job jar) are left out of the
     * cluster's class path.
     */
    FlinkStandaloneCluster(ChildProcesses processes, Path dir, List<String> jobJarClassPath) throws IOException {
        this.processes = processes;
        this.dir = Files.createDirectories(dir);
        this.confDir = Files.createDirectories(dir.resolve("conf"));
        this.restPort = FreePorts.next();
        List<String> cp = new ArrayList<>(ChildProcesses.testClassPath());
        cp.removeAll(jobJarClassPath);
        cp.removeIf(e -> e.endsWith("test-classes"));
        this.classPath = String.join(File.pathSeparator, cp);
        Path checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
        Path savepoints = Files.createDirectories(dir.resolve("savepoints"));
        // Every TaskManager memory component is explicit: Flink's scripts derive them from the process size and
        // pass them to TaskManagerRunner, which is started here without the scripts.
        Files.writeString(confDir.resolve("config.yaml"), String.join("\n",
                "jobmanager.rpc.address: localhost",
                "jobmanager.rpc.port: " + FreePorts.next(),
                "jobmanager.bind-host: localhost",
                "rest.address: localhost",
                "rest.bind-address: localhost",
                "rest.port: " + restPort,
                "blob.server.port: " + FreePorts.next(),
                "taskmanager.host: localhost",
                "taskmanager.bind-host: localhost",
                "taskmanager.numberOfTaskSlots: 2",
                "taskmanager.cpu.cores: 2",
                "taskmanager.memory.framework.heap.size: 96m",
                "taskmanager.memory.framework.off-heap.size: 96m",
                "taskmanager.memory.task.heap.size: 256m",
                "taskmanager.memory.task.off-heap.size: 0m",
                "taskmanager.memory.network.min: 32m",
                "taskmanager.memory.network.max: 32m",
                "taskmanager.memory.managed.size: 96m",
                "taskmanager.memory.jvm-metaspace.size: 256m",
                "taskmanager.memory.jvm-overhead.min: 128m",
                "taskmanager.memory.jvm-overhead.max: 128m",
                "parallelism.default: 2",
                "state.backend.type: rocksdb",
                "execution.checkpointing.incremental: true",
                "execution.checkpointing.dir: " + checkpoints.toUri(),
                "execution.checkpointing.savepoint-dir: " + savepoints.toUri(),
                // TaskManager loss and broker outages must end in a restart, never in a FAILED job
                "restart-strategy.type: exponential-delay",
                "restart-strategy.exponential-delay.initial-backoff: 1 s",
                "restart-strategy.exponential-delay.max-backoff: 10 s",
                "classloader.parent-first-patterns.additional: jcuda.",
                "env.java.opts.all: " + JAVA17_FLAGS,
                // appended to env.java.opts.all by Flink's scripts, so the Java 17 flags stay
                "env.java.opts.taskmanager: " + OUR_JAVA_OPTS,
                "env.java.opts.client: " + OUR_JAVA_OPTS,
                ""));
        Files.writeString(confDir.resolve("log4j2.xml"), LOG4J_WARN);
    }

    Path savepointDir() {
        return dir.resolve("savepoints");
    }

    /**
     * A Flink JVM's options, as its scripts compose them: {@code env.java.opts.all}, then the process kind's
     * own ({@code withOurs}: the TaskManagers and the client, which run our code).
     */
    private List<String> jvmOptions(String heap, String name, boolean withOurs) {
        List<String> o = new ArrayList<>();
        o.add("-Xmx" + heap);
        o.addAll(List.of(JAVA17_FLAGS.split(" ")));
        if (withOurs) {
            o.addAll(List.of(OUR_JAVA_OPTS.split(" ")));
        }
        o.add("-Dlog4j2.configurationFile=" + confDir.resolve("log4j2.xml"));
        o.add("-Dlog.file=" + dir.resolve(name + ".log"));
        return o;
    }

    /** Starts the JobManager and {@code n} TaskManagers and waits until all are registered (3 min at most). */
    void start(int n) throws IOException, InterruptedException {
        processes.startJava(jvmOptions("384m", "jobmanager", false), classPath,
                "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                List.of("--configDir", confDir.toString()), Map.of(), dir.resolve("jobmanager.log"));
        for (int i = 0; i < n; i++) {
            startTaskManager();
        }
        awaitTaskManagers(n);
    }

    /** Starts one more TaskManager; its resource id ({@code tm-N}) is how the REST API names it. */
    String startTaskManager() throws IOException {
        String id = "tm-" + (++taskManagerCount);
        List<String> jvm = jvmOptions("352m", id, true);  // framework + task heap
        jvm.add("-XX:MaxDirectMemorySize=224m");  // framework and task off-heap, network
        Process p = processes.startJava(jvm, classPath, "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                List.of("--configDir", confDir.toString(), "-Dtaskmanager.resource-id=" + id), Map.of(), dir.resolve(id + ".log"));
        taskManagers.put(id, p);
        return id;
    }

    /** SIGKILL to a TaskManager this test started. */
    void killTaskManager(String id) throws InterruptedException {
        ChildProcesses.kill(taskManagers.remove(id));
    }

    void awaitTaskManagers(int n) throws InterruptedException {
        await(Duration.ofMinutes(3), n + " TaskManagers registered", () -> {
            JsonNode o = get("/overview");
            return o != null && o.path("taskmanagers").asInt() == n;
        });
    }

    /** GET on the REST API: its JSON, or null when the JobManager does not answer (yet). */
    JsonNode get(String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + restPort + path))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    String jobState(String jobId) {
        JsonNode j = get("/jobs/" + jobId);
        return j == null ? "UNKNOWN" : j.path("state").asText();
    }

    /** The job's checkpoint statistics (counts, latest completed and restored). */
    JsonNode checkpoints(String jobId) {
        return get("/jobs/" + jobId + "/checkpoints");
    }

    /** How often the job restarted (its numRestarts metric), -1 when not known. */
    long restarts(String jobId) {
        JsonNode m = get("/jobs/" + jobId + "/metrics?get=numRestarts");
        return m != null && m.size() > 0 ? m.get(0).path("value").asLong(-1) : -1;
    }

    /** The TaskManagers running at least one task of the job. */
    List<String> taskManagersOf(String jobId) {
        List<String> ids = new ArrayList<>();
        JsonNode job = get("/jobs/" + jobId);
        if (job == null) {
            return ids;
        }
        for (JsonNode v : job.path("vertices")) {
            JsonNode tms = get("/jobs/" + jobId + "/vertices/" + v.path("id").asText() + "/taskmanagers");
            if (tms == null) {
                continue;
            }
            for (JsonNode tm : tms.path("taskmanagers")) {
                String id = tm.path("taskmanager-id").asText();
                if (!ids.contains(id) && taskManagers.containsKey(id)) {
                    ids.add(id);
                }
            }
        }
        return ids;
    }

    /** Cancels the job through the REST API and waits until it is CANCELED (2 min at most). */
    void cancel(String jobId) throws IOException, InterruptedException {
        http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + restPort + "/jobs/" + jobId + "?mode=cancel"))
                .timeout(Duration.ofSeconds(10)).method("PATCH", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.discarding());
        await(Duration.ofMinutes(2), "job " + jobId + " canceled", () -> "CANCELED".equals(jobState(jobId)));
    }

    /**
     * Stops the job with a savepoint in {@link #savepointDir()} (REST {@code POST /jobs/ID/stop}, what
     * {@code flink stop --savepointPath} sends, without the client JVM's start-up delay) and returns the
     * savepoint's path once it is complete (3 min at most).
     */
    String stopWithSavepoint(String jobId) throws IOException, InterruptedException {
        String body = JSON.writeValueAsString(Map.of("targetDirectory", savepointDir().toUri().toString(), "drain", false));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + restPort + "/jobs/" + jobId + "/stop"))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 202) {
            throw new AssertionError("stop-with-savepoint of " + jobId + " refused: " + r.statusCode() + " " + r.body());
        }
        String trigger = JSON.readTree(r.body()).path("request-id").asText();
        String[] location = {null};
        await(Duration.ofMinutes(3), "the savepoint of job " + jobId, () -> {
            JsonNode s = get("/jobs/" + jobId + "/savepoints/" + trigger);
            if (s == null || !"COMPLETED".equals(s.path("status").path("id").asText())) {
                return false;
            }
            JsonNode op = s.path("operation");
            if (op.has("failure-cause")) {
                throw new AssertionError("stop-with-savepoint of " + jobId + " failed: " + op.path("failure-cause"));
            }
            location[0] = op.path("location").asText();
            return true;
        });
        return location[0];
    }

    /**
     * Runs Flink's command line client ({@code flink ARGS}) in its own JVM against this cluster and returns its
     * output; fails when it does not exit 0 within {@code seconds}.
     */
    String flink(long seconds, String... args) throws IOException, InterruptedException {
        Path log = Files.createTempFile(dir, "flink-cli-", ".log");
        List<String> jvm = jvmOptions("256m", "client", true);
        Process p = processes.startJava(jvm, classPath, "org.apache.flink.client.cli.CliFrontend", List.of(args),
                Map.of("FLINK_CONF_DIR", confDir.toString()), log);
        int rc = ChildProcesses.waitFor(p, seconds, "flink " + String.join(" ", args));
        String out = Files.readString(log);
        if (rc != 0) {
            throw new AssertionError("flink " + args[0] + " exited with " + rc + ":\n" + out);
        }
        return out;
    }

    /** The job id a detached {@code flink run} printed. */
    static String submittedJobId(String cliOutput) {
        Matcher m = Pattern.compile("job ([0-9a-f]{32}) submitted").matcher(cliOutput);
        if (!m.find()) {
            throw new AssertionError("no job id in the client's output:\n" + cliOutput);
        }
        return m.group(1);
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    /** Polls {@code c} every 200 ms until it holds; fails naming {@code what} after {@code timeout}. */
    static void await(Duration timeout, String what, Condition c) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (c.holds()) {
                    return;
                }
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception retry) {
                // not yet (a server restarting); asked again below
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + timeout.toSeconds() + " s for: " + what);
            }
            Thread.sleep(200);
        }
    }
}
