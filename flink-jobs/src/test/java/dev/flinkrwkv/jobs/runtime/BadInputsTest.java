package dev.flinkrwkv.jobs.runtime;

import dev.flinkrwkv.jobs.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A file the job would read that is missing or wrong fails before anything starts, with one line and exit 1. */
class BadInputsTest {
    static final String MODEL = Shared.tinyModel("tiny-rwkv-4v0-660K-FP32.bin").toString();

    private static void failsAtStart(JobRuns.Result r, String command, String... words) {
        assertEquals(1, r.exit(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("flink-rwkv " + command + ": "), r.err());
        for (String w : words) {
            assertTrue(r.err().contains(w), r.err());
        }
        assertTrue(!r.out().contains("embedded") && !r.out().contains("job "), "started something before failing: " + r.out());
    }

    @Test
    @Timeout(60)
    void aMissingInputFeedOrModelOrAFileForAnOutputDirectoryFailsAtOnce(@TempDir Path tmp) throws Exception {
        String out = tmp.resolve("out").toString();
        String cp = tmp.resolve("cp").toString();
        failsAtStart(JobRuns.main("score-logs", "--model", MODEL, "--input", tmp.resolve("nope.log").toString(),
                "--output-dir", out, "--checkpoint-dir", cp, "--web-ui-port", "-1"), "score-logs", "--input", "nope.log", "does not exist");
        failsAtStart(JobRuns.main("score-logs", "--model", MODEL, "--feed", tmp.resolve("feed.log").toString(), "--bounded",
                "--checkpoint-dir", cp, "--web-ui-port", "-1"), "score-logs", "--feed", "feed.log", "does not exist");
        Files.createDirectories(tmp.resolve("empty"));
        failsAtStart(JobRuns.main("enrich", "--model", MODEL, "--text-field", "msg", "--input", tmp.resolve("empty").toString(),
                "--output-dir", out, "--checkpoint-dir", cp, "--web-ui-port", "-1"), "enrich", "a directory without files");
        Path in = tmp.resolve("in.log");
        Files.writeString(in, "a line\n");
        Path fileOut = tmp.resolve("file-out");
        Files.writeString(fileOut, "x");
        failsAtStart(JobRuns.main("generate", "--model", MODEL, "--input", in.toString(), "--output-dir", fileOut.toString(),
                "--checkpoint-dir", cp, "--web-ui-port", "-1"), "generate", "file-out is a file");
        failsAtStart(JobRuns.main("generate", "--model", tmp.resolve("m.bin").toString(), "--input", in.toString(),
                "--output-dir", out, "--checkpoint-dir", cp, "--web-ui-port", "-1"), "generate", "m.bin");
    }
}
