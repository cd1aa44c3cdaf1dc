package dev.flinkrwkv.jobs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code init-model} and {@code quantize} commands, run as a user runs them. */
class ModelCommandsTest {
    @TempDir
    Path dir;

    /** Exit code, stdout and stderr of one command line. */
    record Run(int code, String out, String err) {
        /** A user mistake: non-zero exit, nothing on stdout, one line on stderr that says {@code what}. */
        void assertOneLineError(String what) {
            assertTrue(code != 0, "exit code " + code);
            assertEquals("", out);
            assertEquals(1, err.lines().count(), "one line: " + err);
            assertTrue(err.contains(what), err);
            assertFalse(err.contains("Exception"), "no stack trace or exception name: " + err);
        }
    }

    static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    Run initModel(String version, String type, String file, String... more) {
        String[] base = {"init-model", "--version", version, "--layers", "2", "--embed", "64", "--vocab", "256",
                "--type", type, "--out", dir.resolve(file).toString(), "--seed", "11"};
        String[] argv = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, argv, base.length, more.length);
        return run(argv);
    }

    @Test
    void initModelWritesAModelThatInfoReads() {
        Run r = initModel("6", "FP16", "v6.bin", "--ffn", "96", "--head-size", "16");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("RWKV 6.0"), r.out());
        Run info = run("info", "--model", dir.resolve("v6.bin").toString());
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("RWKV 6.0"), info.out());
        assertTrue(info.out().contains("4 of size 16"), info.out());
        assertTrue(info.out().contains("ffn size:      96"), info.out());
    }

    @Test
    void quantizingARandomModelEqualsWritingItQuantized() throws IOException {
        assertEquals(0, initModel("7", "FP32", "f32.bin").code());
        assertEquals(0, initModel("7", "Q5_1", "direct.bin").code());
        Run q = run("quantize", "--model", dir.resolve("f32.bin").toString(), "--type", "q5_1",
                "--out", dir.resolve("q.bin").toString());
        assertEquals(0, q.code(), q.err());
        assertTrue(q.out().contains("Q5_1"), q.out());
        assertArrayEquals(Files.readAllBytes(dir.resolve("direct.bin")), Files.readAllBytes(dir.resolve("q.bin")));
    }

    @Test
    void quantizeMistakes() {
        assertEquals(0, initModel("5.2", "FP32", "m.bin").code());
        String m = dir.resolve("m.bin").toString();
        run("quantize", "--model", m, "--type", "Q3_K", "--out", dir.resolve("x.bin").toString())
                .assertOneLineError("unknown storage type 'Q3_K'");
        run("quantize", "--model", m, "--type", "Q8_0", "--out", m).assertOneLineError("is the input file");
        assertEquals(0, run("quantize", "--model", m, "--type", "Q8_0", "--out", dir.resolve("q.bin").toString()).code());
        run("quantize", "--model", dir.resolve("q.bin").toString(), "--type", "Q4_0", "--out", dir.resolve("y.bin").toString())
                .assertOneLineError("already Q8_0");
        run("quantize", "--model", dir.resolve("nope.bin").toString(), "--type", "Q4_0", "--out", dir.resolve("y.bin").toString())
                .assertOneLineError("does not exist");
        assertFalse(Files.exists(dir.resolve("x.bin")) || Files.exists(dir.resolve("y.bin")));
    }

    @Test
    void initModelMistakes() {
        initModel("8", "FP32", "a.bin").assertOneLineError("unknown RWKV version '8'");
        run("init-model", "--version", "4", "--layers", "1", "--embed", "48", "--vocab", "10", "--type", "Q8_0",
                "--out", dir.resolve("b.bin").toString()).assertOneLineError("multiple of 32");
        initModel("5.2", "FP32", "c.bin", "--head-size", "24").assertOneLineError("head size 24");
        Run missing = run("init-model", "--version", "7", "--layers", "1", "--embed", "64", "--out", dir.resolve("d.bin").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("missing --vocab"), missing.err());
        assertFalse(Files.exists(dir.resolve("b.bin")) || Files.exists(dir.resolve("c.bin")));
    }

    @Test
    void benchPrintsARowPerSizeAgainstTheMeasuredReadBandwidth() {
        assertEquals(0, initModel("7", "FP16", "b.bin").code());
        String m = dir.resolve("b.bin").toString();
        Run r = run("bench", "--model", m, "--batch", "1,3", "--seq", "4", "--threads", "2", "--seconds", "0.3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*memory bandwidth \\(2 threads\\): read [0-9.]+ GB/s \\([^)]+\\), copy [0-9.]+ GB/s.*"), r.out());
        for (String row : new String[] {"batch +1 +2 ", "batch +3 +2 ", "seq +4 +2 "}) {
            String line = r.out().lines().filter(l -> l.matches(row + ".*")).findFirst().orElseThrow(() -> new AssertionError(row + " in " + r.out()));
            double tokensPerSecond = Double.parseDouble(line.trim().split(" +")[3]);
            assertTrue(tokensPerSecond > 0, line);
        }
        // --tsv: the same rows for scripts, tab-separated under a header, the rest of the output as # comments
        Run tsv = run("bench", "--model", m, "--batch", "2", "--seq", "3", "--seq-last", "5", "--seconds", "0.2", "--tsv");
        assertEquals(0, tsv.code(), tsv.err());
        java.util.List<String> rows = tsv.out().lines().filter(l -> !l.startsWith("#")).toList();
        assertEquals(4, rows.size(), tsv.out());
        // --seq-last: sequence mode with the last token's logits only, a row of its own
        String[] seqLast = rows.get(3).split("\t");
        assertEquals(java.util.List.of("seq-last", "5", "1"), java.util.List.of(seqLast).subList(0, 3));
        assertTrue(Double.parseDouble(seqLast[3]) > 0, rows.get(3));
        assertTrue(rows.get(0).startsWith("mode\tsize\tthreads\ttokens_per_s\t"), rows.get(0));
        String[] batch = rows.get(1).split("\t");
        assertEquals(java.util.List.of("batch", "2", "1"), java.util.List.of(batch).subList(0, 3));
        assertTrue(Double.parseDouble(batch[3]) > 0 && rows.get(2).startsWith("seq\t3\t1\t"), tsv.out());
        Run wrong = run("bench", "--model", m, "--threads", "0");
        assertEquals(2, wrong.code());
        assertTrue(wrong.err().contains("--threads must be >= 1") && wrong.err().contains("usage:"), wrong.err());
    }

    /**
     * operator-bench runs the keyed operator on a MiniCluster with RocksDB and a checkpoint, and reports each
     * key count's tokens against the bare evaluator on as many threads as the operator's.
     */
    @Test
    void operatorBenchRunsTheOperatorAgainstTheBareEvaluator() {
        assertEquals(0, initModel("7", "FP32", "o.bin").code());
        Run r = run("operator-bench", "--model", dir.resolve("o.bin").toString(), "--keys", "30", "--rounds", "2",
                "--tokens", "2", "--batch", "8", "--checkpoint-seconds", "0.2", "--evaluator-threads", "2",
                "--dir", dir.resolve("cp").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("evaluator threads 2; device auto; bare batched steps: "), r.out());
        String row = r.out().lines().filter(l -> l.startsWith("30 ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row for 30 keys in " + r.out()));
        String[] f = row.trim().split(" +");
        assertEquals("120", f[1], row);  // 30 keys x 2 records x 2 tokens, every one evaluated once
        assertTrue(Double.parseDouble(f[2]) > 0 && Double.parseDouble(f[3]) > 0, row);
        Run wrong = run("operator-bench", "--model", dir.resolve("o.bin").toString(), "--evaluator-threads", "0");
        assertEquals(2, wrong.code());
        assertTrue(wrong.err().contains("--evaluator-threads must be >= 1"), wrong.err());
    }
    /**
     * operator-bench's distribution table: one row per key distribution and record length, every record's
     * tokens evaluated once, against sequence mode for one key and batch mode for many; a bad distribution
     * is a usage error.
     */
    @Test
    void operatorBenchComparesKeyDistributionsWithTheBestBareMode() {
        assertEquals(0, initModel("7", "FP32", "d.bin").code());
        Run r = run("operator-bench", "--model", dir.resolve("d.bin").toString(), "--key-distribution",
                "single,zipf:1.1", "--tokens", "2,5", "--run-tokens", "60", "--batch", "8", "--keys", "5",
                "--max-batch-tokens", "7", "--checkpoint-seconds", "0.5", "--dir", dir.resolve("cpd").toString());
        assertEquals(0, r.code(), r.err());
        for (String shape : new String[] {"single 2 ", "single 5 ", "zipf:1.1 2 ", "zipf:1.1 5 "}) {
            String row = r.out().lines().filter(l -> l.replaceAll(" +", " ").startsWith(shape)).findFirst()
                    .orElseThrow(() -> new AssertionError("no row " + shape + " in " + r.out()));
            String[] f = row.trim().split(" +");
            assertEquals(shape.startsWith("single") ? "sequence" : "batch", f[3], row);
            assertTrue(Double.parseDouble(f[2]) > 0 && Double.parseDouble(f[5]) > 0 && Double.parseDouble(f[6]) > 0, row);
        }
        Run wrong = run("operator-bench", "--model", dir.resolve("d.bin").toString(), "--key-distribution", "zipf:x");
        assertEquals(2, wrong.code());
        assertTrue(wrong.err().contains("zipf exponent"), wrong.err());
    }
}
