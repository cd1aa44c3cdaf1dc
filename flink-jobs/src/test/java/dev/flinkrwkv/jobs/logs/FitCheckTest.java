package dev.flinkrwkv.jobs.logs;

import dev.flinkrwkv.jobs.Shared;
import dev.flinkrwkv.jobs.runtime.JobRuns;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** score-logs warns when the stream is far from what the model was fitted to (the losses fit recorded beside it). */
class FitCheckTest {
    /** A line of {@code tokens} tokens, each {@code meanBits} bits of surprisal. */
    private static LineTokens line(double meanBits, int tokens) {
        float[] logProbs = new float[tokens];
        java.util.Arrays.fill(logProbs, (float) (-meanBits * Math.log(2)));
        return new LineTokens("k", "s", 0, 1, logProbs);
    }

    private static String observe(FitCheck check, LineTokens line) {
        LineSurprisal s = LineSurprisal.fromLogProbs(line.logProbs, 0, line.logProbs.length);
        return check.observe(s.tokens(), s.meanBits());
    }

    @Test
    void warnsOnceAfterTheFirstLinesWhenTheirMeanIsOverTwiceTheFittedLoss() {
        FitCheck far = new FitCheck(1.0, "m.bin.json");
        for (int i = 1; i < FitCheck.LINES; i++) {
            assertNull(observe(far, line(3.0, 10)));
        }
        String w = observe(far, line(3.0, 10));
        assertTrue(w != null && w.contains("3.00 bits per byte over its first 100 lines, 3.0x the 1.00") && w.contains("m.bin.json"), w);
        assertNull(observe(far, line(3.0, 10)));

        // The mean is token-weighted: long lines near the fitted loss outweigh short surprising ones.
        FitCheck near = new FitCheck(1.0, "m.bin.json");
        for (int i = 0; i < FitCheck.LINES; i++) {
            assertNull(observe(near, i % 2 == 0 ? line(1.5, 100) : line(9.0, 5)));
        }
    }

    @Test
    void fitInfoRoundTripsBesideTheModel(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("m.bin");
        assertNull(FitInfo.read(model));
        new FitInfo(400, 300, "best held-out", 0.9312, Double.NaN, 1000, 0, true, 2, 64, 32, 64, "Q8_0").write(model);
        assertTrue(Files.isRegularFile(dir.resolve("m.bin.json")));
        FitInfo back = FitInfo.read(model);
        assertEquals(300, back.modelStep());
        assertEquals(0.9312, back.trainBitsPerByte());
        assertTrue(Double.isNaN(back.heldOutBitsPerByte()));
        assertEquals(0.9312, back.expectedBitsPerByte());  // nothing held out: the training loss
        assertTrue(back.overfitting());
        Files.writeString(dir.resolve("m.bin.json"), "[1,");
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> FitInfo.read(model));
        assertTrue(e.getMessage().contains("m.bin.json is not the JSON that fit writes"), e.getMessage());
    }

    /** The tiny test model was never fitted to logs; a metadata file claiming 0.5 bits per byte makes the BGL lines far off. */
    @Test
    @Timeout(180)
    void scoreLogsLogsOneWarningWhenTheStreamIsFarFromTheFit(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tiny.bin");
        Files.copy(Shared.tinyModel("tiny-rwkv-4v0-660K-FP32.bin"), model);
        Path input = dir.resolve("bgl.log");
        Files.write(input, Files.readAllLines(Shared.bgl(), StandardCharsets.UTF_8).subList(0, 150), StandardCharsets.UTF_8);
        List<String> logged = new CopyOnWriteArrayList<>();
        AbstractAppender capture = new AbstractAppender("fit-check-capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                logged.add(event.getMessage().getFormattedMessage());
            }
        };
        capture.start();
        var logger = (org.apache.logging.log4j.core.Logger) LogManager.getLogger(FitCheck.class);
        // The command line's logging configuration shows our warnings; the tests' may not, so set the level here.
        org.apache.logging.log4j.Level level = logger.getLevel();
        org.apache.logging.log4j.core.config.Configurator.setLevel(FitCheck.class.getName(), org.apache.logging.log4j.Level.WARN);
        logger.addAppender(capture);
        try {
            new FitInfo(10, 10, "last", 0.4, 0.5, 1000, 100, false, 1, 32, 16, 16, "FP32").write(model);
            JobRuns.Result far = scoreLogs(model, input, dir.resolve("far"));
            assertEquals(0, far.exit(), far.err() + far.out());
            assertTrue(far.out().contains("fitted to 0.500 bits per byte (tiny.bin.json)"), far.out());
            assertEquals(1, logged.size(), logged + far.out() + far.err());
            assertTrue(logged.get(0).startsWith("the model does not fit this stream:"), logged.get(0));
            String farWarning = logged.get(0);

            logged.clear();
            new FitInfo(10, 10, "last", 40, 50, 1000, 100, false, 1, 32, 16, 16, "FP32").write(model);
            JobRuns.Result near = scoreLogs(model, input, dir.resolve("near"));
            assertEquals(0, near.exit(), near.err() + near.out());
            assertEquals(List.of(), logged);

            // A line statistic other than the mean (here the message's worst token plus its head's total) is
            // not in bits per byte: the check still measures the lines' mean, so a fit at the stream's own
            // mean raises no warning whatever the statistic.
            java.util.regex.Matcher measured = java.util.regex.Pattern.compile("fit this stream: ([0-9.]+) bits per byte")
                    .matcher(farWarning);
            assertTrue(measured.find(), farWarning);
            double streamMean = Double.parseDouble(measured.group(1));
            new FitInfo(10, 10, "last", streamMean, streamMean, 1000, 100, false, 1, 32, 16, 16, "FP32").write(model);
            JobRuns.Result statistic = scoreLogs(model, input, dir.resolve("statistic"), "--line-statistic", "body-and-head");
            assertEquals(0, statistic.exit(), statistic.err() + statistic.out());
            assertEquals(List.of(), logged);
        } finally {
            logger.removeAppender(capture);
            org.apache.logging.log4j.core.config.Configurator.setLevel(FitCheck.class.getName(), level);
        }
    }

    private static JobRuns.Result scoreLogs(Path model, Path input, Path out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("score-logs", "--model", model.toString(), "--input",
                input.toString(), "--output-dir", out.toString(), "--web-ui-port", "-1", "--parallelism", "1",
                "--checkpoint-dir", out + "-cp", "--checkpoint-interval-ms", "500"));
        args.addAll(List.of(more));
        return JobRuns.main(args.toArray(String[]::new));
    }
}
