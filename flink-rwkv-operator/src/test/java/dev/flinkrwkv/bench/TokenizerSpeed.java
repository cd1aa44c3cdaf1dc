package dev.flinkrwkv.bench;

import dev.flinkrwkv.tokenize.Tokenizer;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The {@link TokenizerBenchmark} corpora timed by this thread's CPU time as well as by the clock: on a machine
 * shared with other work the clock counts the time other processes held the core, the CPU time does not (cache
 * sharing still slows it). Prints MB/s both ways for each tokenizer and corpus, best of several rounds.
 *
 * <p>Run it from the project root (classpath as for the JMH benchmarks):
 * <pre>
 * java -cp flink-rwkv-operator/target/test-classes:flink-rwkv-operator/target/classes:$(cat flink-rwkv-operator/target/cp.txt) \
 *     dev.flinkrwkv.bench.TokenizerSpeed
 * </pre>
 */
public final class TokenizerSpeed {
    private TokenizerSpeed() {}

    public static void main(String[] args) throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        System.out.printf("%-6s %-6s %-12s %14s %14s%n", "", "corpus", "input", "MB/s (CPU)", "MB/s (clock)");
        for (String tokenizer : new String[] {"world", "20b"}) {
            for (String corpus : new String[] {"logs", "mixed", "unique"}) {
                TokenizerBenchmark b = new TokenizerBenchmark();
                b.tokenizer = tokenizer;
                b.corpus = corpus;
                b.setUp();
                for (int bytes = 0; bytes < 2; bytes++) {
                    Tokenizer t = b.tokenizerInstance();
                    double bestCpu = 0;
                    double bestWall = 0;
                    for (int round = 0; round < 15; round++) {
                        long cpu0 = mx.getCurrentThreadCpuTime();
                        long wall0 = System.nanoTime();
                        int n = 0;
                        for (int rep = 0; rep < 5; rep++) {
                            n += (bytes == 1 ? b.encodeBytes() : b.encodeText()).length;
                        }
                        double mb = 5.0 * TokenizerBenchmark.SIZE / 1e6;
                        if (round >= 5 && n > 0) { // the first rounds warm the JIT up
                            bestCpu = Math.max(bestCpu, mb / ((mx.getCurrentThreadCpuTime() - cpu0) / 1e9));
                            bestWall = Math.max(bestWall, mb / ((System.nanoTime() - wall0) / 1e9));
                        }
                    }
                    System.out.printf("%-6s %-6s %-12s %14.1f %14.1f%n", tokenizer, corpus,
                            bytes == 1 ? "byte[]" : "String", bestCpu, bestWall);
                }
            }
        }
    }
}
