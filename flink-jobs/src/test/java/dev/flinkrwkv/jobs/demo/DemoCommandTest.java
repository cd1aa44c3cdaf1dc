package dev.flinkrwkv.jobs.demo;

import dev.flinkrwkv.jobs.Main;
import dev.flinkrwkv.jobs.logs.LineScore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo end to end at a tiny scale: a few fit steps, a few hundred lines through Kafka and the job. */
class DemoCommandTest {
    @Test
    void tinyDemoScoresEveryLineFlagsSomeAndReports(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int lines = 240;
        int rc = Main.run(new String[] {"demo", "--lines", String.valueOf(lines), "--fit-steps", "40", "--layers", "1",
                        "--embed", "32", "--train-lines", "2000", "--rate", "200", "--anomaly-rate", "0.2", "--seed", "3", "--threshold", "1.5", "--validation-lines", "400",
                        "--checkpoint-interval-ms", "1000", "--stall-seconds", "60", "--out", dir.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, text + err.toString(StandardCharsets.UTF_8));

        assertTrue(Files.size(dir.resolve("model.bin")) > 0);
        assertTrue(text.matches("(?s).*embedded Flink cluster .*, web UI at http://localhost:\\d+, .*"), text);
        assertTrue(text.contains(lines + " lines scored (0 without a score)"), text);
        // Flagged lines were printed as they came, each with the truth the generator knows.
        List<String> stream = Files.readAllLines(dir.resolve("stream-labelled.log"), StandardCharsets.UTF_8);
        Matcher flagged = Pattern.compile("FLAGGED line +(\\d+) +score +(\\S+) +\\[(\\w+)] +(.*)").matcher(text);
        int printed = 0;
        while (flagged.find()) {
            printed++;
            String truth = stream.get(Integer.parseInt(flagged.group(1)) - 1);
            assertEquals(truth.substring(truth.indexOf(' ') + 1), flagged.group(4), "the printed text is that line's");
            assertEquals(truth.startsWith("- ") ? "normal" : truth.substring(0, truth.indexOf(' ')), flagged.group(3));
            assertTrue(Double.parseDouble(flagged.group(2)) >= 1.5, "flagged above the threshold (printed rounded)");
        }
        assertTrue(printed > 0, text);
        assertTrue(text.contains(", " + printed + " flagged,"), "every flagged line was printed once: " + text);

        // The line statistic was chosen on the validation stream and is the one score-logs ran with.
        Matcher chosen = Pattern.compile("chosen: --line-statistic (\\S+), ranked by its").matcher(text);
        assertTrue(chosen.find(), text);
        assertTrue(text.contains("line statistic " + chosen.group(1) + ": "), text);

        String auroc = "([0-9.]+) \\[([0-9.]+), ([0-9.]+)]";
        Matcher all = Pattern.compile("all anomalies +(\\d+) +(\\d+) +" + auroc + " +(\\S+) +" + auroc + " +(\\S+)").matcher(text);
        assertTrue(all.find(), text);
        long anomalous = stream.stream().filter(l -> !l.startsWith("- ")).count();
        assertEquals(anomalous, Long.parseLong(all.group(1)));
        assertEquals(lines - anomalous, Long.parseLong(all.group(2)));
        for (int g = 3; g <= 10; g++) {
            double v = Double.parseDouble(all.group(g));
            assertTrue(v >= 0 && v <= 1, "metric in [0, 1]: " + v);
        }
        for (int g : new int[] {3, 7}) {
            double low = Double.parseDouble(all.group(g + 1));
            double high = Double.parseDouble(all.group(g + 2));
            assertTrue(low <= high && low <= Double.parseDouble(all.group(g)) + 5e-4, "an interval around the AUROC: " + all.group());
        }
        for (String kind : StatisticChoice.kinds()) {
            assertTrue(text.contains(kind), "a row per kind: " + text);
        }
        String html = Files.readString(dir.resolve("demo.html"));
        assertTrue(html.contains("<svg") && html.contains("<polyline"), "the page has the plot");
        assertTrue(html.contains("AUROC per anomaly kind") && html.contains("<rect"), "and the AUROC per kind drawn");
    }

    @Test
    void aScoreReadsBackFromItsJson() throws Exception {
        LineScore s = new LineScore("web-02", "demo-input", 0, 41, 87, 1.92, 11.4, 52, 1.71, 0.12, 240, 1.75, true);
        LineScore back = ScoreWatcher.parse(s.toJsonBytes());
        assertEquals(s.toJson(), back.toJson());
    }

    @Test
    void badOptionsAreUsageErrors(@TempDir Path dir) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(new String[] {"demo", "--lines", "0", "--out", dir.toString()},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, rc);
        assertFalse(err.toString(StandardCharsets.UTF_8).isEmpty());
    }
}
