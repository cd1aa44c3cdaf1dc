package dev.flinkrwkv.jobs.cli;

import dev.flinkrwkv.jobs.Main;
import dev.flinkrwkv.jobs.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvalLogsCommandTest {
    private record Result(int code, String out, String err) {}

    private static Result run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void printsTheTableAndWritesThePage(@TempDir Path tmp) throws Exception {
        Path html = tmp.resolve("bgl.html");
        Result r = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "ngram", "--lines", "400",
                "--train-fraction", "0.25", "--html", html.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("ngram\\s+0\\.\\d{4}\\s+0\\.\\d{4}\\s+[0-9.]+\\s+[0-9.]+\\s+\\d+\\s+[0-9.]+")), r.out());
        assertTrue(r.out().contains("(300 evaluated lines"), r.out());
        String page = Files.readString(html);
        assertTrue(page.startsWith("<!DOCTYPE html>") && page.contains("<svg") && page.contains("<h2>ngram</h2>"));
    }

    @Test
    void writeTrainSavesTheNormalLinesBeforeTheEvaluatedPartWithoutLabels(@TempDir Path tmp) throws Exception {
        Path train = tmp.resolve("train.txt");
        Result r = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "deflate", "--lines", "400",
                "--train-fraction", "0.5", "--write-train", train.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("lines 1-200"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("deflate\\s+\\d+\\.\\d{3}\\s+\\d+\\.\\d{3}")), r.out());
        // The same lines straight from the file: the first 200, label '-' and the space after it cut, CR LF gone.
        StringBuilder want = new StringBuilder();
        for (String line : Files.readAllLines(Shared.bgl(), StandardCharsets.ISO_8859_1).subList(0, 200)) {
            if (line.startsWith("- ")) {
                want.append(line.substring(2).replace("\r", "")).append('\n');
            }
        }
        String got = Files.readString(train, StandardCharsets.ISO_8859_1);
        assertEquals(want.toString(), got);
        assertTrue(!got.contains("\r") && got.length() > 0);
    }

    @Test
    void userMistakesGetOneClearLine(@TempDir Path tmp) {
        Result bad = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "gzip");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--scorer must be rwkv, deflate, ngram or all"), bad.err());
        Result noModel = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "rwkv");
        assertEquals(2, noModel.code());
        assertTrue(noModel.err().contains("needs --model"), noModel.err());
        Result missing = run("eval-logs", "--input", tmp.resolve("nope.log").toString(), "--scorer", "deflate");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("nope.log is not a readable file"), missing.err());
        Result badModel = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "rwkv", "--model", Shared.bgl().toString());
        assertEquals(1, badModel.code());
        assertTrue(badModel.err().contains("BGL_2k.log"), badModel.err());
        assertTrue(!badModel.err().contains("\tat "), badModel.err());
    }
}
