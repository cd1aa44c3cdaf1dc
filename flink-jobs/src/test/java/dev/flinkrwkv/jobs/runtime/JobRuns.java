package dev.flinkrwkv.jobs.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkrwkv.jobs.Main;
import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.JobArgs;
import dev.flinkrwkv.jobs.kafka.KafkaTopics;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Test helpers for running the jobs (through the command line or the launcher) and reading what they committed. */
public final class JobRuns {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JobRuns() {}

    /** What a command printed and returned. */
    public record Result(int exit, String out, String err) {}

    public static Result main(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            exit = Main.run(argv, o, e);
        }
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs {@code pipeline} as job {@code job} with the shared job options {@code argv}; returns the console. */
    public static <T> String launch(String job, Pipeline<T> pipeline, String... argv) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            JobLauncher.run(JobArgs.parse(job, Args.parse(argv, 0)), pipeline, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    /** The committed records of {@code topic} by Kafka key, each key's in order, as JSON. */
    public static Map<String, List<JsonNode>> committedByKey(String bs, String topic) {
        Map<String, List<JsonNode>> m = new TreeMap<>();
        for (var r : KafkaTopics.readSettled(bs, topic, Duration.ofSeconds(60))) {
            m.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>()).add(json(r.value()));
        }
        return m;
    }

    /** The committed values of {@code topic} as JSON, in partition and offset order. */
    public static List<JsonNode> committed(String bs, String topic) {
        List<JsonNode> out = new ArrayList<>();
        for (var r : KafkaTopics.readSettled(bs, topic, Duration.ofSeconds(60))) {
            out.add(json(r.value()));
        }
        return out;
    }

    public static JsonNode json(byte[] b) {
        try {
            return JSON.readTree(b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String[] concat(String[] a, String... b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
