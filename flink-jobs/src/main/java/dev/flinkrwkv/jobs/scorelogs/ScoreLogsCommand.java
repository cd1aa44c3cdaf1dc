package dev.flinkrwkv.jobs.scorelogs;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.JobArgs;
import dev.flinkrwkv.jobs.cli.ModelTokenizer;
import dev.flinkrwkv.jobs.cli.NormalizeArgs;
import dev.flinkrwkv.jobs.cli.OperatorArgs;
import dev.flinkrwkv.jobs.cli.UsageException;
import dev.flinkrwkv.jobs.logs.AnomalyDetector;
import dev.flinkrwkv.jobs.logs.LineStatistic;
import dev.flinkrwkv.jobs.logs.FitCheck;
import dev.flinkrwkv.jobs.logs.FitInfo;
import dev.flinkrwkv.jobs.runtime.JobLauncher;
import dev.flinkrwkv.jobs.runtime.JobOptions;
import dev.flinkrwkv.jobs.runtime.OperatorSettings;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code score-logs}: the streaming anomaly scorer ({@link ScoreLogsJob}) as a command. The options are
 * checked and the model is loaded before anything starts, so that a mistake fails at once with one line.
 * {@code --print-flagged} prints each flagged line as it is committed to the output topic or directory.
 */
public final class ScoreLogsCommand implements Command {
    @Override
    public String name() {
        return "score-logs";
    }

    @Override
    public String summary() {
        return "stream log lines through the model per key; score, baseline and flag each line (Kafka or files, exactly once)";
    }

    @Override
    public String usage() {
        return "--model MODEL " + ModelTokenizer.USAGE + " [--alpha " + AnomalyDetector.DEFAULT_ALPHA + "] [--warmup " + AnomalyDetector.DEFAULT_WARMUP
                + "] [--threshold " + AnomalyDetector.DEFAULT_THRESHOLD + "] [--line-statistic " + LineStatistic.labels() + "] " + NormalizeArgs.USAGE
                + " [--print-flagged] [--output-text-chars "
                + ScoreLogsJob.DEFAULT_TEXT_CHARS + "] " + OperatorArgs.USAGE + " " + JobArgs.USAGE;
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        Path model = args.path("model");
        AnomalyDetector detector;
        try {
            detector = new AnomalyDetector(args.number("alpha", AnomalyDetector.DEFAULT_ALPHA),
                    args.integer("warmup", AnomalyDetector.DEFAULT_WARMUP),
                    args.number("threshold", AnomalyDetector.DEFAULT_THRESHOLD), AnomalyDetector.DEFAULT_MIN_STD);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        LineStatistic statistic;
        try {
            statistic = LineStatistic.parse(args.string("line-statistic", "mean"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        JobOptions o = JobArgs.parse(name(), args);
        int textChars = args.integer("output-text-chars", ScoreLogsJob.DEFAULT_TEXT_CHARS);
        if (textChars < 0) {
            throw new UsageException("--output-text-chars must be >= 0 (0: no text), got " + textChars);
        }
        OperatorSettings operator = OperatorArgs.parse(args);
        ModelTokenizer mt = ModelTokenizer.of(args);
        ScoreLogsJob job = new ScoreLogsJob(model.toAbsolutePath().toString(), mt.tokenizer(), operator, detector, textChars)
                .withLineStatistic(statistic)
                .withNormalizer(NormalizeArgs.forModel(args, model, err));
        boolean printFlagged = args.flag("print-flagged");
        out.println(mt.describe());
        // a fitted model's metadata is in bits per byte, a line's score in bits per token: the same only for bytes
        FitInfo fit = "bytes".equals(mt.tokenizer().name()) ? FitInfo.read(model) : null;
        job.withFitCheck(fit, FitInfo.pathFor(model).getFileName().toString());
        if (fit != null && Double.isFinite(fit.expectedBitsPerByte())) {
            out.printf(Locale.ROOT, "fitted to %.3f bits per byte (%s); a warning follows if the stream's first %d lines"
                            + " average more than %.0fx that%n", fit.expectedBitsPerByte(), FitInfo.pathFor(model).getFileName(),
                    FitCheck.LINES, FitCheck.FACTOR);
        }
        JobLauncher.run(o, job, out, printFlagged ? value -> printIfFlagged(value, out) : null);
        return 0;
    }

    /** A committed output line that is flagged, printed as it is (LineScore's JSON writes the flag this way). */
    private static void printIfFlagged(byte[] value, PrintStream out) {
        String json = new String(value, StandardCharsets.UTF_8);
        if (json.contains("\"flagged\":true")) {
            out.println("flagged: " + json);
        }
    }
}
