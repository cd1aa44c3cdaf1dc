package dev.flinkrwkv.jobs.io;

import dev.flinkrwkv.jobs.format.DeadLetter;
import dev.flinkrwkv.jobs.format.ParsedRecord;
import dev.flinkrwkv.jobs.format.RawRecord;
import dev.flinkrwkv.jobs.format.RecordParser;
import dev.flinkrwkv.jobs.kafka.EmbeddedKafka;
import dev.flinkrwkv.jobs.kafka.KafkaTopics;
import dev.flinkrwkv.jobs.runtime.JobEnvironment;
import dev.flinkrwkv.jobs.runtime.JobSettings;
import dev.flinkrwkv.jobs.runtime.ParseFunction;
import dev.flinkrwkv.jobs.runtime.RestartStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plumbing every job shares, end to end with a trivial keyed function in place of the RWKV operator:
 * Kafka (or file) source, parsing with dead letters, RocksDB keyed state, exactly-once Kafka (or file)
 * sinks on the embedded cluster. A failure injected after a completed checkpoint must leave the
 * read_committed output identical to a failure-free run: same records per key, in the same order.
 */
class ExactlyOnceOutputTest {
    private static final int KEYS = 6;
    private static final int LINES_PER_KEY = 150;
    private static final int MAX_BYTES = 200;
    private static EmbeddedKafka kafka;
    private static List<byte[]> input;
    private static int badLines;

    @BeforeAll
    static void start() {
        kafka = EmbeddedKafka.start();
        kafka.createTopics(2, "in");
        input = new ArrayList<>();
        for (int i = 0; i < LINES_PER_KEY; i++) {
            for (int k = 0; k < KEYS; k++) {
                input.add(("host" + k + " message " + i + " from " + k).getBytes(StandardCharsets.UTF_8));
            }
            if (i % 50 == 7) {  // a few of each kind of bad record
                input.add(new byte[0]);
                input.add(new byte[] {'h', 'o', 's', 't', '1', ' ', (byte) 0xC3, (byte) 0x28});
                input.add("?? no key here".getBytes(StandardCharsets.UTF_8));
                input.add(("host2 " + "x".repeat(MAX_BYTES)).getBytes(StandardCharsets.UTF_8));
                badLines += 4;
            }
        }
        KafkaTopics.produce(kafka.bootstrapServers(), "in", input);
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void kafkaOutputAfterAFailureEqualsAFailureFreeRun(@TempDir Path tmp) throws Exception {
        String bs = kafka.bootstrapServers();
        kafka.createTopics(2, "out-clean", "dlq-clean", "out-failed", "dlq-failed");
        runJob(tmp.resolve("cp-clean"), Input.kafka(bs, "in", "clean", true), Output.kafka(bs, "out-clean", "eos-clean"),
                Output.kafka(bs, "dlq-clean", "eos-clean"), false);
        FailOnce.reset();
        runJob(tmp.resolve("cp-failed"), Input.kafka(bs, "in", "failed", true), Output.kafka(bs, "out-failed", "eos-failed"),
                Output.kafka(bs, "dlq-failed", "eos-failed"), true);
        assertTrue(FailOnce.FAILED.get(), "the failure was not injected: no checkpoint completed while records flowed");

        Map<String, List<String>> clean = byKey(KafkaTopics.readSettled(bs, "out-clean", Duration.ofSeconds(60)));
        Map<String, List<String>> failed = byKey(KafkaTopics.readSettled(bs, "out-failed", Duration.ofSeconds(60)));
        checkComplete(clean);
        assertEquals(clean, failed);

        List<String> dlqClean = sortedValues(KafkaTopics.readSettled(bs, "dlq-clean", Duration.ofSeconds(60)));
        List<String> dlqFailed = sortedValues(KafkaTopics.readSettled(bs, "dlq-failed", Duration.ofSeconds(60)));
        assertEquals(badLines, dlqClean.size());
        assertEquals(dlqClean, dlqFailed);
        assertEquals(badLines / 4, dlqClean.stream().filter(s -> s.contains("\"INVALID_UTF8\"")).count());
        assertEquals(badLines / 4, dlqClean.stream().filter(s -> s.contains("\"EMPTY\"")).count());
        assertEquals(badLines / 4, dlqClean.stream().filter(s -> s.contains("\"NO_KEY\"")).count());
        assertEquals(badLines / 4, dlqClean.stream().filter(s -> s.contains("\"TOO_LONG\"")).count());
    }

    @Test
    void filesInFilesOutWithDeadLetters(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("in.log");
        try (var out = Files.newOutputStream(in)) {
            for (byte[] line : input) {
                out.write(line);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
        }
        FailOnce.reset();
        runJob(tmp.resolve("cp"), Input.file(in, MAX_BYTES), Output.files(tmp.resolve("out")), Output.files(tmp.resolve("dlq")), false);
        Map<String, List<String>> out = new TreeMap<>();
        for (String line : readParts(tmp.resolve("out"))) {
            out.computeIfAbsent(line.substring(0, line.indexOf('|')), k -> new ArrayList<>()).add(line);
        }
        checkComplete(out);
        List<String> dlq = readParts(tmp.resolve("dlq"));
        assertEquals(badLines, dlq.size());
        // Line numbers from 1, as in the file.
        assertTrue(dlq.stream().anyMatch(s -> s.contains("\"offset\":" + (KEYS * 8 + 1) + ",") && s.contains("EMPTY")), dlq.get(0));
    }

    /**
     * Every key has all its lines, each once, counted 1..n in the order of its messages: the line counted c
     * carries message c - 1, so the keyed state saw the key's lines in order, none lost, none twice. Not
     * the order in which the lines were read back: a file sink's part files have no total order on disk.
     */
    private static void checkComplete(Map<String, List<String>> byKey) {
        assertEquals(KEYS, byKey.size(), byKey.keySet().toString());
        for (var e : byKey.entrySet()) {
            List<String> v = e.getValue();
            assertEquals(LINES_PER_KEY, v.size(), e.getKey());
            Map<Integer, String> byCount = new TreeMap<>();
            for (String line : v) {
                String[] f = line.split("\\|", 4);
                assertEquals(e.getKey(), f[0], line);
                String earlier = byCount.put(Integer.parseInt(f[1]), line);
                assertEquals(null, earlier, "counted twice: " + line);
            }
            for (int c = 1; c <= LINES_PER_KEY; c++) {
                String line = byCount.get(c);
                assertTrue(line != null && line.endsWith("|" + e.getKey() + " message " + (c - 1) + " from " + e.getKey().substring(4)),
                        e.getKey() + " count " + c + ": " + line);
            }
        }
    }

    private static void runJob(Path checkpoints, Input input, Output out, Output deadLetters, boolean injectFailure) throws Exception {
        JobEnvironment je = JobEnvironment.embedded(JobSettings.defaults(checkpoints).withCheckpointInterval(Duration.ofMillis(150))
                .withWebUiPort(-1).withParallelism(2).withRestarts(RestartStrategy.fixedDelay(3, Duration.ofMillis(100))));
        StreamExecutionEnvironment env = je.env();
        DataStream<RawRecord> raw = input.open(env).map(new Throttle()).name("throttle");
        SingleOutputStreamOperator<ParsedRecord> parsed = raw.process(
                new ParseFunction(RecordParser.lines().keyByPattern("^(host\\d+) ").maxBytes(MAX_BYTES))).name("parse");
        DataStream<String> counted = parsed.keyBy(r -> r.key).process(new FailOnce(injectFailure)).name("count");
        out.write(counted, s -> s.substring(0, s.indexOf('|')).getBytes(StandardCharsets.UTF_8),
                s -> s.getBytes(StandardCharsets.UTF_8), "out");
        deadLetters.write(parsed.getSideOutput(ParseFunction.DEAD_LETTERS), null, DeadLetter::toJsonBytes, "dead-letters");
        env.execute("exactly-once test");
    }

    private static Map<String, List<String>> byKey(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<String, List<String>> m = new TreeMap<>();
        for (var r : records) {
            m.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>())
                    .add(new String(r.value(), StandardCharsets.UTF_8));
        }
        return m;
    }

    private static List<String> sortedValues(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).sorted().toList();
    }

    private static List<String> readParts(Path dir) throws IOException {
        List<String> lines = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("part")).collect(Collectors.toList())) {
                lines.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
            }
        }
        return lines;
    }


    /** Slows the source down so that checkpoints complete while records are still flowing. */
    private static final class Throttle implements org.apache.flink.api.common.functions.MapFunction<RawRecord, RawRecord> {
        @Override
        public RawRecord map(RawRecord r) throws Exception {
            Thread.sleep(2);
            return r;
        }
    }

    /**
     * A stand-in for the RWKV operator: per key, a count and a running hash of the texts in RocksDB state;
     * each record's output is a pure function of its key's records so far. With {@code injectFailure}, it
     * throws once, after a checkpoint has completed and more records have arrived.
     */
    static final class FailOnce extends KeyedProcessFunction<String, ParsedRecord, String> implements CheckpointListener {
        static final AtomicBoolean FAILED = new AtomicBoolean();
        static volatile boolean checkpointed;
        private final boolean injectFailure;
        private transient ValueState<byte[]> state;

        FailOnce(boolean injectFailure) {
            this.injectFailure = injectFailure;
        }

        static void reset() {
            FAILED.set(false);
            checkpointed = false;
        }

        @Override
        public void open(OpenContext ctx) {
            state = getRuntimeContext().getState(new ValueStateDescriptor<>("count", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        }

        @Override
        public void processElement(ParsedRecord r, Context ctx, Collector<String> out) throws Exception {
            if (injectFailure && checkpointed && !FAILED.getAndSet(true)) {
                throw new RuntimeException("injected failure");
            }
            byte[] s = state.value();
            long count = s == null ? 0 : ByteBuffer.wrap(s).getLong(0);
            long hash = s == null ? 17 : ByteBuffer.wrap(s).getLong(8);
            count++;
            hash = hash * 31 + r.text.hashCode();
            state.update(ByteBuffer.allocate(16).putLong(count).putLong(hash).array());
            out.collect(r.key + "|" + count + "|" + Long.toHexString(hash) + "|" + r.text);
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            checkpointed = true;
        }
    }
}
