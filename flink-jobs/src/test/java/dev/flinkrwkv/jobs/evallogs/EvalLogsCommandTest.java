package dev.flinkrwkv.jobs.evallogs;

import dev.flinkrwkv.jobs.Main;
import dev.flinkrwkv.jobs.Shared;
import dev.flinkrwkv.jobs.logs.FitInfo;
import dev.flinkrwkv.jobs.logs.LabelledLog;
import dev.flinkrwkv.jobs.logs.LeaveOut;
import dev.flinkrwkv.jobs.logs.LineNormalizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
        Result r = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "ngram-online", "--lines", "400",
                "--train-fraction", "0.25", "--html", html.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.matches(
                "ngram-online\\s+0\\.\\d{4}\\s+0\\.\\d{3}-[01]\\.\\d{3}\\s+0\\.\\d{4}\\s+[0-9.]+\\s+[0-9.]+\\s+\\d+\\s+[0-9.]+")), r.out());
        assertTrue(r.out().contains("(300 evaluated lines"), r.out());
        String page = Files.readString(html);
        assertTrue(page.startsWith("<!DOCTYPE html>") && page.contains("<svg") && page.contains("<h2>ngram-online</h2>"));
    }

    @Test
    void writeTrainSavesTheNormalLinesBeforeTheEvaluatedPartWithoutLabels(@TempDir Path tmp) throws Exception {
        Path train = tmp.resolve("train.txt");
        Result r = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "deflate-online", "--lines", "400",
                "--train-fraction", "0.5", "--write-train", train.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("lines 1-200"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("deflate-online\\s+\\d+\\.\\d{3}\\s+\\d+\\.\\d{3}")), r.out());
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
    void trainedBaselinesAreFittedToWhatWriteTrainWritesAndReportAnInterval(@TempDir Path tmp) throws Exception {
        Path train = tmp.resolve("train.txt");
        Result own = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "trained", "--lines", "1000",
                "--write-train", train.toString());
        assertEquals(0, own.code(), own.err());
        for (String name : new String[] {"kn-ngram\\([3-6]\\)", "deflate-dict", "unseen-words", "unseen-template"}) {
            String row = own.out().lines().filter(l -> l.matches(name + "\\s.*")).findFirst().orElseThrow(() -> new AssertionError(name + "\n" + own.out()));
            String[] f = row.split("\\s+");
            double auroc = Double.parseDouble(f[1]);
            String[] ci = f[2].split("-");
            assertTrue(Double.parseDouble(ci[0]) <= auroc && auroc <= Double.parseDouble(ci[1]), row);
            assertEquals("-", f[4], row);  // no detector behind a trained baseline
        }
        // The same lines given as --train: the same figures (the seconds column aside).
        Result given = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "trained", "--lines", "1000",
                "--train", train.toString());
        assertEquals(0, given.code(), given.err());
        assertEquals(withoutSeconds(own.out()), withoutSeconds(given.out()));
        // Other training lines: other figures.
        Files.writeString(train, "a single line unlike any log\n");
        Result other = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "unseen-words", "--lines", "1000",
                "--train", train.toString());
        assertEquals(0, other.code(), other.err());
        assertTrue(!withoutSeconds(other.out()).equals(withoutSeconds(own.out())));
        Result none = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "kn-ngram", "--train-fraction", "0");
        assertEquals(2, none.code());
        assertTrue(none.err().contains("need training lines"), none.err());
    }

    @Test
    void theModelsLineStatisticIsChosenOnTheLinesBeforeTheEvaluatedPart(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("byte.bin");
        Result init = run("init-model", "--version", "7", "--layers", "1", "--embed", "32", "--head-size", "16",
                "--vocab", "256", "--out", model.toString(), "--seed", "5");
        assertEquals(0, init.code(), init.err());
        Result r = run("eval-logs", "--input", Shared.bgl().toString(), "--model", model.toString(), "--scorer", "rwkv",
                "--lines", "600");
        assertEquals(0, r.code(), r.err());
        String[] names = dev.flinkrwkv.jobs.logs.LineStatistic.labels().split("\\|");
        StringBuilder there = new StringBuilder();
        for (String n : names) {
            there.append(there.length() == 0 ? " " : ", ").append(java.util.regex.Pattern.quote(n)).append(" AUROC ([0-9.]+) AP [0-9.]+");
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("line statistic (\\S+), the best AUROC on lines 1-300"
                + " \\((\\d+) anomalies;" + there + "\\)").matcher(r.err());
        assertTrue(m.find(), r.err());
        double best = 0;
        for (int g = 3; g < 3 + names.length; g++) {
            best = Math.max(best, Double.parseDouble(m.group(g)));
        }
        assertEquals(best, Double.parseDouble(m.group(3 + java.util.Arrays.asList(names).indexOf(m.group(1)))));
        // The rwkv row is the chosen statistic's row, figure for figure.
        String chosenRow = r.out().lines().filter(l -> l.startsWith("rwkv:" + m.group(1) + " ")).findFirst().orElseThrow();
        String rwkvRow = r.out().lines().filter(l -> l.startsWith("rwkv ")).findFirst().orElseThrow();
        assertEquals(chosenRow.substring(chosenRow.indexOf(' ')).trim().replaceAll("\\s+[0-9.]+$", ""),
                rwkvRow.substring(rwkvRow.indexOf(' ')).trim().replaceAll("\\s+[0-9.]+$", ""));
        for (String n : names) {
            assertTrue(r.out().contains("rwkv:" + n + " "), r.out());
        }
        // A fixed statistic is taken as given.
        Result fixed = run("eval-logs", "--input", Shared.bgl().toString(), "--model", model.toString(), "--scorer", "rwkv",
                "--lines", "600", "--line-statistic", "body-max");
        assertEquals(0, fixed.code(), fixed.err());
        assertTrue(!fixed.err().contains("the best AUROC"), fixed.err());
        Result bad = run("eval-logs", "--input", Shared.bgl().toString(), "--model", model.toString(), "--line-statistic", "median");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("unknown line statistic 'median'"), bad.err());
    }

    @Test
    void aCrossFittedEnsembleScoresEachTrainingLineWithTheModelsThatNeverSawIt() throws Exception {
        StringBuilder bgl = new StringBuilder();
        String[] labels = {"-", "KERNDTLB", "-", "-", "-", "KERNDTLB", "-", "-"};
        for (int i = 0; i < labels.length; i++) {
            bgl.append(labels[i]).append(" 1117838570 2005.06.03 R02-M1-N0 RAS KERNEL INFO line ").append(i).append('\n');
        }
        LabelledLog log = LabelledLog.parseBgl(bgl.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII), "test");
        // lines 1-6 before the evaluated part: normal lines 0, 2, 3, 4; block 1 of 2 is lines 0 and 2, block 2 lines 3 and 4
        java.util.function.Function<String, FitInfo> fit = leftOut -> new FitInfo(10, 10, "last", 1, 1, 100, 10, false, 1,
                32, 16, 16, "FP32", LineNormalizer.DIGITS, 4, leftOut == null ? null : LeaveOut.parse(leftOut));
        java.io.PrintStream quiet = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
        int[][] unseen = EvalLogsCommand.unseenBy(List.of(fit.apply("1/2"), fit.apply("2/2"), fit.apply("1/2")), log, 6, quiet);
        // an anomaly goes with the normal line after it (line 5, the last before the evaluated part, with line 4)
        int[][] expected = {{0, 2}, {0, 2}, {0, 2}, {1}, {1}, {1}};
        assertEquals(expected.length, unseen.length);
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], unseen[i], "line " + i);
        }
        // every model saw lines 3 and 4; a model fitted to other lines; models without --leave-out: no choice on unseen lines
        assertNull(EvalLogsCommand.unseenBy(List.of(fit.apply("1/2"), fit.apply("1/2")), log, 6, quiet));
        FitInfo otherLines = new FitInfo(10, 10, "last", 1, 1, 100, 10, false, 1, 32, 16, 16, "FP32", LineNormalizer.DIGITS, 5,
                new LeaveOut(2, 2));
        assertNull(EvalLogsCommand.unseenBy(List.of(fit.apply("1/2"), otherLines), log, 6, quiet));
        assertNull(EvalLogsCommand.unseenBy(List.of(fit.apply(null), fit.apply(null)), log, 6, quiet));
    }

    @Test
    void evalLogsSaysWhenItChoosesOnLinesNoModelSaw(@TempDir Path tmp) throws Exception {
        LabelledLog log = LabelledLog.readBgl(Shared.bgl()).head(300);
        int normal = 0;
        for (int i = 0; i < log.size(); i++) {
            normal += log.anomalous(i) ? 0 : 1;
        }
        List<String> models = new java.util.ArrayList<>();
        for (int b = 1; b <= 2; b++) {
            Path model = tmp.resolve("m" + b + ".bin");
            Result init = run("init-model", "--version", "7", "--layers", "1", "--embed", "32", "--head-size", "16",
                    "--vocab", "256", "--out", model.toString(), "--seed", "" + (4 + b));
            assertEquals(0, init.code(), init.err());
            new FitInfo(10, 10, "last", 1, 1, 100, 10, false, 1, 32, 16, 16, "FP32", LineNormalizer.NONE, normal,
                    new LeaveOut(b, 2)).write(model);
            models.add(model.toString());
        }
        Result r = run("eval-logs", "--input", Shared.bgl().toString(), "--model", models.get(0), "--ensemble", models.get(1),
                "--scorer", "rwkv", "--lines", "600");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("the best AUROC on lines 1-300, each scored by the models whose fit left it out"), r.err());
    }

    private static String withoutSeconds(String out) {
        StringBuilder sb = new StringBuilder();
        for (String l : out.lines().filter(l -> !l.startsWith("wrote")).toList()) {
            String[] f = l.split("\\s+");
            sb.append(f.length == 8 && !l.startsWith("scorer") ? l.substring(0, l.lastIndexOf(' ')).trim() : l).append('\n');
        }
        return sb.toString();
    }

    @Test
    void userMistakesGetOneClearLine(@TempDir Path tmp) {
        Result bad = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "gzip");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--scorer takes all, trained, online or names from rwkv, kn-ngram") && bad.err().contains("'gzip'"),
                bad.err());
        Result noModel = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "rwkv");
        assertEquals(2, noModel.code());
        assertTrue(noModel.err().contains("needs --model"), noModel.err());
        Result missing = run("eval-logs", "--input", tmp.resolve("nope.log").toString(), "--scorer", "deflate-online");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("nope.log is not a readable file"), missing.err());
        Result badModel = run("eval-logs", "--input", Shared.bgl().toString(), "--scorer", "rwkv", "--model", Shared.bgl().toString());
        assertEquals(1, badModel.code());
        assertTrue(badModel.err().contains("BGL_2k.log"), badModel.err());
        assertTrue(!badModel.err().contains("\tat "), badModel.err());
    }

    /** The first 400 BGL lines with their labels cut off (what a log without labels looks like), and the labels as 0/1. */
    private static Path[] unlabelledBgl(Path tmp) throws Exception {
        StringBuilder text = new StringBuilder();
        StringBuilder labels = new StringBuilder();
        for (String line : Files.readAllLines(Shared.bgl(), StandardCharsets.ISO_8859_1).subList(0, 400)) {
            int sp = line.indexOf(' ');
            text.append(line.substring(sp + 1)).append('\n');
            labels.append(line.startsWith("- ") ? "0" : "1").append('\n');
        }
        Path log = tmp.resolve("plain.log");
        Path lab = tmp.resolve("plain.labels");
        Files.writeString(log, text, StandardCharsets.ISO_8859_1);
        Files.writeString(lab, labels);
        return new Path[] {log, lab};
    }

    /** The console's metric lines (everything but the seconds column), to compare two runs. */
    private static String metrics(String out) {
        StringBuilder sb = new StringBuilder();
        for (String l : out.lines().toList()) {
            if (l.startsWith("ngram") || l.startsWith("(")) {
                sb.append(l.startsWith("ngram") && l.split("\\s+").length == 8 ? l.substring(0, l.lastIndexOf(' ')).trim() : l).append('\n');
            }
        }
        return sb.toString();
    }

    @Test
    void aLogWithoutBglLabelsIsRefusedWithOneLineAndOtherLabelsAreAccepted(@TempDir Path tmp) throws Exception {
        Path[] plain = unlabelledBgl(tmp);
        Result refused = run("eval-logs", "--input", plain[0].toString(), "--scorer", "ngram-online");
        assertEquals(1, refused.code());
        assertEquals(1, refused.err().lines().count(), refused.err());
        assertTrue(refused.err().contains("does not look BGL-labelled") && refused.err().contains("--labels REGEX")
                && refused.err().contains("--label-file") && refused.err().contains("--unlabelled"), refused.err());

        // The labels as a file give exactly the figures the BGL labels give: same texts, same truth.
        Result bgl = run("eval-logs", "--input", Shared.bgl().toString(), "--lines", "400", "--scorer", "ngram-online");
        Result file = run("eval-logs", "--input", plain[0].toString(), "--label-file", plain[1].toString(), "--scorer", "ngram-online");
        assertEquals(0, bgl.code(), bgl.err());
        assertEquals(0, file.code(), file.err());
        assertTrue(metrics(bgl.out()).contains("anomalies"), bgl.out());
        assertEquals(metrics(bgl.out()), metrics(file.out()));

        // A pattern: the lines it matches are the anomalies.
        long fatal = Files.readAllLines(plain[0], StandardCharsets.ISO_8859_1).subList(200, 400).stream()
                .filter(l -> l.contains("FATAL")).count();
        Result pattern = run("eval-logs", "--input", plain[0].toString(), "--labels", "FATAL", "--scorer", "ngram-online");
        assertEquals(0, pattern.code(), pattern.err());
        assertTrue(fatal > 0 && pattern.out().contains("(200 evaluated lines, " + fatal + " anomalies"), pattern.out());

        // No labels: scores only.
        Result scores = run("eval-logs", "--input", plain[0].toString(), "--unlabelled", "--scorer", "ngram-online");
        assertEquals(0, scores.code(), scores.err());
        assertTrue(scores.out().contains("no labels: scores only") && !scores.out().contains("AUROC"), scores.out());

        Result two = run("eval-logs", "--input", plain[0].toString(), "--unlabelled", "--labels", "x");
        assertEquals(2, two.code());
        Result badFile = run("eval-logs", "--input", plain[0].toString(), "--label-file", plain[0].toString());
        assertEquals(1, badFile.code());
        assertTrue(badFile.err().contains("expected 0 or 1"), badFile.err());
        Result shortFile = run("eval-logs", "--input", Shared.bgl().toString(), "--label-file", plain[1].toString());
        assertEquals(1, shortFile.code());
        assertTrue(shortFile.err().contains("400 labels for the 2000 lines"), shortFile.err());
    }
}
