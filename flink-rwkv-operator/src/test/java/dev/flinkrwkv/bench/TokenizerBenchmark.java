package dev.flinkrwkv.bench;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.tokenize.Tokenizer;
import dev.flinkrwkv.tokenize.TokenizerCases;
import dev.flinkrwkv.tokenize.Tokenizers;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Encoding speed of the World and 20B tokenizers on one thread, over {@value #SIZE} bytes of text: {@code logs}
 * (the loghub BGL and HDFS samples of the shared test data), {@code mixed} (every tokenizer test text, repeated:
 * English, code, CJK and other scripts, emoji, whitespace runs, numbers, logs) or {@code unique} (random words,
 * nearly all different, which defeats the 20B tokenizer's word cache). One operation is one byte, so the score
 * in ops/us is MB/s.
 *
 * <p>Not run by the tests. Run it from the project root with (the shared test data next to the checkout, or
 * {@code -Dflinkrwkv.shared=DIR} after {@code -cp ...}; {@link TokenizerSpeed} prints the same by CPU time):
 * <pre>
 * mvn -q -pl flink-rwkv-operator test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp flink-rwkv-operator/target/test-classes:flink-rwkv-operator/target/classes:$(cat flink-rwkv-operator/target/cp.txt) \
 *     org.openjdk.jmh.Main TokenizerBenchmark
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class TokenizerBenchmark {
    static final int SIZE = 1_000_000;

    @Param({"world", "20b"})
    public String tokenizer;

    @Param({"logs", "mixed", "unique"})
    public String corpus;

    private Tokenizer t;
    private String text;
    private byte[] bytes;

    @Setup
    public void setUp() throws IOException {
        t = Tokenizers.named(tokenizer);
        String all = switch (corpus) {
            case "logs" -> Files.readString(SharedData.loghub().resolve("BGL_2k.log"))
                    + Files.readString(SharedData.loghub().resolve("HDFS_2k.log"));
            case "mixed" -> {
                StringBuilder b = new StringBuilder();
                for (String file : List.of("world-tokenizer-cases.json", "20b-tokenizer-cases.json")) {
                    for (TokenizerCases.Case c : TokenizerCases.read(file).values()) {
                        b.append(c.text()).append('\n');
                    }
                }
                yield b.toString();
            }
            case "unique" -> uniqueWords();
            default -> throw new IllegalArgumentException("corpus " + corpus);
        };
        // Repeat to SIZE bytes; the tail is cut at a character boundary and padded with newlines.
        byte[] once = all.getBytes(StandardCharsets.UTF_8);
        byte[] raw = new byte[SIZE + once.length];
        for (int at = 0; at < SIZE; at += once.length) {
            System.arraycopy(once, 0, raw, at, once.length);
        }
        int cut = SIZE;
        while ((raw[cut] & 0xC0) == 0x80) {
            cut--;
        }
        bytes = new byte[SIZE];
        System.arraycopy(raw, 0, bytes, 0, cut);
        java.util.Arrays.fill(bytes, cut, SIZE, (byte) '\n');
        text = new String(bytes, StandardCharsets.UTF_8);
    }

    /**
     * Seeded random words (Latin, Cyrillic, CJK, digits) between spaces and punctuation, nearly all different, so
     * that no cache of whole words helps: the slow case of the 20B tokenizer.
     */
    private static String uniqueWords() {
        java.util.Random r = new java.util.Random(1);
        StringBuilder b = new StringBuilder();
        while (b.length() < SIZE / 2) {
            int script = r.nextInt(10);
            int len = 1 + r.nextInt(10);
            for (int i = 0; i < len; i++) {
                b.append(script < 6 ? (char) ('a' + r.nextInt(26)) : script < 8 ? (char) ('\u0430' + r.nextInt(32))
                        : script < 9 ? (char) ('\u4e00' + r.nextInt(2000)) : (char) ('0' + r.nextInt(10)));
            }
            b.append(r.nextInt(8) == 0 ? ", " : r.nextInt(20) == 0 ? ".\n" : " ");
        }
        return b.toString();
    }

    Tokenizer tokenizerInstance() {
        return t;
    }

    @Benchmark
    @OperationsPerInvocation(SIZE)
    public int[] encodeText() {
        return t.encode(text);
    }

    @Benchmark
    @OperationsPerInvocation(SIZE)
    public int[] encodeBytes() {
        return t.encode(bytes);
    }
}
