package dev.flinkrwkv.jobs.evallogs;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.DeviceArgs;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.ModelTokenizer;
import dev.flinkrwkv.jobs.cli.UsageException;
import dev.flinkrwkv.jobs.format.RawRecord;
import dev.flinkrwkv.jobs.format.RecordParser;
import dev.flinkrwkv.jobs.logs.AnomalyDetector;
import dev.flinkrwkv.jobs.logs.DeflateLineScorer;
import dev.flinkrwkv.jobs.logs.EvalReportHtml;
import dev.flinkrwkv.jobs.logs.LabelledLog;
import dev.flinkrwkv.jobs.logs.LineScorer;
import dev.flinkrwkv.jobs.logs.LogEvaluation;
import dev.flinkrwkv.jobs.logs.NgramLineScorer;
import dev.flinkrwkv.jobs.logs.RwkvLineScorer;
import dev.flinkrwkv.rwkv.RwkvModel;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code eval-logs}: scores a labelled log file (BGL format) with the RWKV model and two baselines, the
 * same per-line aggregation and baseline as score-logs, and prints AUROC and average precision over the
 * evaluated part; optionally writes an HTML page with the plots.
 *
 * <p>{@code --write-train FILE} also saves the normal lines of the warm-up part (the lines before the
 * evaluated part, labels cut off, anomalies left out) for {@code fit}: a model fitted to them has seen
 * nothing of the evaluated lines and no labelled anomaly.
 */
public final class EvalLogsCommand implements Command {
    @Override
    public String name() {
        return "eval-logs";
    }

    @Override
    public String summary() {
        return "score a labelled log (BGL format, or --labels/--label-file); print AUROC and average precision, plot to HTML";
    }

    @Override
    public String usage() {
        return "--input LOG [--labels REGEX | --label-file FILE | --unlabelled] [--model MODEL] " + ModelTokenizer.USAGE
                + " [--scorer rwkv|deflate|ngram|all] [--train-fraction 0.5]"
                + " [--lines N] [--key-pattern REGEX] [--ngram-order " + NgramLineScorer.DEFAULT_ORDER + "]"
                + " [--alpha " + AnomalyDetector.DEFAULT_ALPHA + "] [--warmup " + AnomalyDetector.DEFAULT_WARMUP + "]"
                + " [--threshold " + AnomalyDetector.DEFAULT_THRESHOLD + "] [--html OUT.html] [--write-train TRAIN.txt] "
                + DeviceArgs.USAGE;
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        Path input = args.path("input");
        String which = args.string("scorer", "all");
        double trainFraction = args.number("train-fraction", 0.5);
        if (!(trainFraction >= 0 && trainFraction < 1)) {
            throw new UsageException("--train-fraction must be in [0, 1), got " + trainFraction);
        }
        AnomalyDetector detector = new AnomalyDetector(args.number("alpha", AnomalyDetector.DEFAULT_ALPHA),
                args.integer("warmup", AnomalyDetector.DEFAULT_WARMUP),
                args.number("threshold", AnomalyDetector.DEFAULT_THRESHOLD), AnomalyDetector.DEFAULT_MIN_STD);
        List<LineScorer> scorers = scorers(args, which, err);

        LabelledLog log = read(args, input);
        if (args.has("lines")) {
            log = log.head(args.integer("lines", log.size()));
        }
        String[] keys = keys(log, args.string("key-pattern", null));
        int evalFrom = (int) Math.floor(trainFraction * log.size());
        if (evalFrom >= log.size()) {
            throw new UsageException("nothing left to evaluate with --train-fraction " + trainFraction);
        }
        if (args.has("write-train")) {
            Path train = args.path("write-train");
            byte[] text = log.head(evalFrom).normalText();
            java.nio.file.Files.write(train, text);
            out.printf(Locale.ROOT, "wrote the normal lines of lines 1-%d (%,d bytes) to %s%n", evalFrom, text.length, train);
        }
        err.printf(Locale.ROOT, "%s: %d lines (%s), %d distinct keys; evaluating lines %d-%d%n", input,
                log.size(), log.labelled() ? log.anomalies() + " anomalies" : "unlabelled: scores only",
                java.util.Arrays.stream(keys).distinct().count(), evalFrom + 1, log.size());

        List<LogEvaluation.Result> results = new ArrayList<>();
        for (LineScorer s : scorers) {
            Progress p = new Progress(s.name(), log, err);
            results.add(LogEvaluation.run(s, log, keys, evalFrom, detector, input.getFileName().toString(), p::report));
            p.done();
        }
        if (log.labelled()) {
            printLabelled(out, log, results, evalFrom);
        } else {
            out.printf(Locale.ROOT, "%-8s %8s %8s %12s%n", "scorer", "flagged", "seconds", "bits/B");
            for (LogEvaluation.Result r : results) {
                out.printf(Locale.ROOT, "%-8s %8d %8.1f %12.3f%n", r.scorer(), r.flagged(evalFrom), r.seconds(),
                        r.normalBitsPerToken());
            }
            out.printf(Locale.ROOT, "(%d evaluated lines, no labels: scores only)%n", log.size() - evalFrom);
        }
        if (args.has("html")) {
            Path html = args.path("html");
            EvalReportHtml.write(html, "eval-logs: " + input.getFileName(), log, results, evalFrom, null);
            out.println("wrote " + html);
        }
        return 0;
    }

    /** The log as the options say its labels are given: BGL's first field by default. */
    private static LabelledLog read(Args args, Path input) throws IOException {
        int ways = (args.has("labels") ? 1 : 0) + (args.has("label-file") ? 1 : 0) + (args.flag("unlabelled") ? 1 : 0);
        if (ways > 1) {
            throw new UsageException("give at most one of --labels, --label-file and --unlabelled");
        }
        if (args.has("labels")) {
            java.util.regex.Pattern p;
            try {
                p = java.util.regex.Pattern.compile(args.string("labels"));
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new UsageException("--labels is not a valid regular expression: " + e.getDescription());
            }
            return LabelledLog.readMatching(input, p);
        }
        if (args.has("label-file")) {
            return LabelledLog.readWithLabelFile(input, args.path("label-file"));
        }
        return args.flag("unlabelled") ? LabelledLog.readUnlabelled(input) : LabelledLog.readBgl(input);
    }

    private static void printLabelled(PrintStream out, LabelledLog log, List<LogEvaluation.Result> results, int evalFrom) {
        out.printf(Locale.ROOT, "%-8s %12s %10s %13s %10s %8s %8s%n", "scorer", "AUROC(bits)", "AP(bits)",
                "AUROC(score)", "AP(score)", "flagged", "seconds");
        for (LogEvaluation.Result r : results) {
            out.printf(Locale.ROOT, "%-8s %12.4f %10.4f %13.4f %10.4f %8d %8.1f%n", r.scorer(), r.aurocMeanBits(),
                    r.apMeanBits(), r.aurocScore(), r.apScore(), r.flagged(evalFrom), r.seconds());
        }
        out.printf(Locale.ROOT, "%-8s %16s %19s%n", "scorer", "bits/B(normal)", "bits/B(anomalous)");
        for (LogEvaluation.Result r : results) {
            out.printf(Locale.ROOT, "%-8s %16.3f %19.3f%n", r.scorer(), r.normalBitsPerToken(), r.anomalousBitsPerToken());
        }
        int evalAnomalies = 0;
        for (int i = evalFrom; i < log.size(); i++) {
            evalAnomalies += log.anomalous(i) ? 1 : 0;
        }
        out.printf(Locale.ROOT, "(%d evaluated lines, %d anomalies: a random score has AUROC 0.5 and AP %.4f)%n",
                log.size() - evalFrom, evalAnomalies, (double) evalAnomalies / (log.size() - evalFrom));
    }

    private static List<LineScorer> scorers(Args args, String which, PrintStream err) throws IOException {
        int order = args.integer("ngram-order", NgramLineScorer.DEFAULT_ORDER);
        List<LineScorer> list = new ArrayList<>();
        switch (which) {
            case "rwkv" -> list.add(rwkv(args));
            case "deflate" -> list.add(new DeflateLineScorer());
            case "ngram" -> list.add(new NgramLineScorer(order));
            case "all" -> {
                if (args.has("model")) {
                    list.add(rwkv(args));
                } else {
                    err.println("no --model: scoring with the baselines only");
                }
                list.add(new DeflateLineScorer());
                list.add(new NgramLineScorer(order));
            }
            default -> throw new UsageException("--scorer must be rwkv, deflate, ngram or all, got '" + which + "'");
        }
        return list;
    }

    private static LineScorer rwkv(Args args) throws IOException {
        if (!args.has("model")) {
            throw new UsageException("the rwkv scorer needs --model");
        }
        ModelTokenizer mt = ModelTokenizer.of(args);
        return new RwkvLineScorer(RwkvModel.load(mt.model()), mt.tokenizer(), DeviceArgs.parse(args));
    }

    /** Each line's key by the same rule as score-logs (lines without a match share the key "default"). */
    private static String[] keys(LabelledLog log, String pattern) {
        String[] keys = new String[log.size()];
        RecordParser parser = RecordParser.lines().maxBytes(Integer.MAX_VALUE).defaultKey(RecordParser.SINGLE_KEY);
        if (pattern != null) {
            try {
                parser.keyByPattern(pattern);
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new UsageException("--key-pattern is not a valid regular expression: " + e.getDescription());
            }
        }
        for (int i = 0; i < keys.length; i++) {
            RecordParser.ParseResult r = parser.parse(new RawRecord("", -1, i + 1, log.text(i)));
            keys[i] = r.isOk() ? r.record().key : RecordParser.SINGLE_KEY;
        }
        return keys;
    }

    /** Prints lines done and bytes per second every two seconds. */
    private static final class Progress {
        private final String name;
        private final PrintStream err;
        private final long[] cumulativeBytes;
        private final long start = System.nanoTime();
        private long last = start;

        Progress(String name, LabelledLog log, PrintStream err) {
            this.name = name;
            this.err = err;
            this.cumulativeBytes = new long[log.size() + 1];
            for (int i = 0; i < log.size(); i++) {
                cumulativeBytes[i + 1] = cumulativeBytes[i] + log.text(i).length;
            }
        }

        void report(int linesDone) {
            long now = System.nanoTime();
            if (now - last < 2_000_000_000L) {
                return;
            }
            last = now;
            double s = (now - start) / 1e9;
            err.printf(Locale.ROOT, "  %s: %d/%d lines, %.0f tokens/s%n", name, linesDone, cumulativeBytes.length - 1,
                    cumulativeBytes[Math.min(linesDone, cumulativeBytes.length - 1)] / s);
        }

        void done() {
            err.printf(Locale.ROOT, "  %s: done in %.1f s%n", name, (System.nanoTime() - start) / 1e9);
        }
    }
}
