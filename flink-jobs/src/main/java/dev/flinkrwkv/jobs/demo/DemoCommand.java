package dev.flinkrwkv.jobs.demo;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.UsageException;
import dev.flinkrwkv.jobs.demo.SyntheticLogs.Label;
import dev.flinkrwkv.jobs.demo.SyntheticLogs.Line;
import dev.flinkrwkv.jobs.kafka.EmbeddedKafka;
import dev.flinkrwkv.jobs.logs.AnomalyDetector;
import dev.flinkrwkv.jobs.logs.LabelledLog;
import dev.flinkrwkv.jobs.logs.LineScore;
import dev.flinkrwkv.jobs.logs.LineStatistic;
import dev.flinkrwkv.jobs.logs.RwkvLineScorer;
import dev.flinkrwkv.rwkv.RwkvModel;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code demo}: the whole story on one machine with nothing but the jar, in a few minutes.
 * <ol>
 *   <li>{@link SyntheticLogs} writes normal service logs to train on, and a labelled stream with injected
 *       anomalies of four kinds;</li>
 *   <li>{@code fit} trains a small byte-level RWKV-7 on the normal lines for {@code --fit-steps} (a step
 *       budget, so the same command fits the same model on a busy machine and an idle one; {@code
 *       --fit-minutes} bounds it by the clock instead);</li>
 *   <li>{@link StatisticChoice} chooses score-logs' line statistic on a labelled validation stream from the
 *       training side (its own seed, never the evaluated lines), scored offline by the fitted model, unless
 *       {@code --line-statistic} names one;</li>
 *   <li>an embedded Kafka broker starts; {@link LiveFeed} produces the stream into the input topic at
 *       {@code --rate} lines per second while the score-logs job runs on the embedded MiniCluster, keyed by
 *       host;</li>
 *   <li>{@link ScoreWatcher} follows the output topic with a {@code read_committed} consumer and prints
 *       each flagged line as it is committed, with its true label;</li>
 *   <li>when every line has its score, the job is stopped and {@link DemoReport} prints AUROC and average
 *       precision against the labels (overall and per kind) and writes the HTML page with the scores over
 *       time.</li>
 * </ol>
 * Everything goes to {@code --out} (default {@code ./flink-rwkv-demo}): the training and labelled stream
 * files (the latter readable by {@code eval-logs}), the model, the checkpoints, {@code demo.html}.
 *
 * <p>It runs the {@code fit} and {@code score-logs} commands themselves, handed to it by the command list,
 * with the options a user would give them; so the demo shows exactly what they do, and its package depends
 * on no other job's.
 */
public final class DemoCommand implements Command {
    /** A step budget rather than a time budget, so that the demo fits the same model on any machine, busy or idle. */
    static final long DEFAULT_FIT_STEPS = 400;

    /** Enough validation lines for a few dozen anomalies of each kind at the default rate. */
    static final int DEFAULT_VALIDATION_LINES = 3000;

    static final String INPUT_TOPIC = "demo-input";
    static final String OUTPUT_TOPIC = "demo-output";
    static final String DEAD_LETTER_TOPIC = "demo-dead-letters";

    private final Command fit;
    private final Command scoreLogs;

    /** {@code fit} and {@code scoreLogs}: the commands of those names, which the demo runs in turn. */
    public DemoCommand(Command fit, Command scoreLogs) {
        this.fit = fit;
        this.scoreLogs = scoreLogs;
    }

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "generate labelled synthetic logs, fit a small model, score a live stream through Kafka, report AUROC";
    }

    @Override
    public String usage() {
        return "[--lines 2000] [--rate 20] [--fit-steps " + DEFAULT_FIT_STEPS + " | --fit-minutes M] [--train-lines 20000]"
                + " [--anomaly-rate 0.03] [--validation-lines " + DEFAULT_VALIDATION_LINES + "] [--line-statistic NAME]"
                + " [--seed 1] [--out DIR] [--layers 2] [--embed 64] [--threshold 3]"
                + " [--checkpoint-interval-ms 2000] [--stall-seconds 120] [--web-ui-port PORT|-1]";
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        EmbeddedKafka.requireBroker();  // before minutes of fitting, in a jar without it
        int lines = args.integer("lines", 2000);
        double rate = args.number("rate", 20);
        double fitMinutes = args.number("fit-minutes", 0);
        long fitSteps = args.longValue("fit-steps", args.has("fit-minutes") ? 0 : DEFAULT_FIT_STEPS);
        int trainLines = args.integer("train-lines", 20_000);
        double anomalyRate = args.number("anomaly-rate", 0.03);
        long seed = args.longValue("seed", 1);
        Path dir = Paths.get(args.string("out", "flink-rwkv-demo"));
        int checkpointMs = args.integer("checkpoint-interval-ms", 2000);
        int stallSeconds = args.integer("stall-seconds", 120);
        int validationLines = args.integer("validation-lines", DEFAULT_VALIDATION_LINES);
        double threshold = args.number("threshold", AnomalyDetector.DEFAULT_THRESHOLD);
        if (lines < 1 || !(rate > 0) || trainLines < 10 || !(anomalyRate >= 0 && anomalyRate < 1)
                || (fitMinutes <= 0 && fitSteps <= 0) || stallSeconds < 1 || validationLines < 1) {
            throw new UsageException("--lines >= 1, --rate > 0, --train-lines >= 10, --anomaly-rate in [0, 1),"
                    + " --fit-minutes or --fit-steps > 0, --stall-seconds >= 1, --validation-lines >= 1");
        }
        LineStatistic fixedStatistic;
        try {
            fixedStatistic = args.has("line-statistic") ? LineStatistic.parse(args.string("line-statistic", "mean")) : null;
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Files.createDirectories(dir);

        // 1. Data: normal lines to train on; a labelled stream from another seed to score.
        Path train = dir.resolve("train.log");
        SyntheticLogs.writeTraining(train, seed, trainLines);
        List<Line> stream = new SyntheticLogs(seed + 1, anomalyRate).next(lines);
        Path labelled = dir.resolve("stream-labelled.log");
        SyntheticLogs.writeLabelled(labelled, stream);
        List<Label> labels = new ArrayList<>(lines);
        stream.forEach(l -> labels.add(l.label()));
        long anomalies = labels.stream().filter(Label::anomalous).count();
        out.printf(Locale.ROOT, "[1/5] generated %,d normal training lines (%s) and a stream of %,d lines with %d labelled"
                + " anomalous lines (%s; labels stay out of the stream)%n", trainLines, train, lines, anomalies, labelled);

        // 2. Fit: the fit command itself, in this process.
        Path model = dir.resolve("model.bin");
        out.printf(Locale.ROOT, "[2/5] fitting a small RWKV-7 on the normal lines for %s%n",
                fitSteps > 0 ? fitSteps + " steps" : fitMinutes + " minutes");
        long fitStart = System.nanoTime();
        List<String> fitArgs = new ArrayList<>(List.of("--input", train.toString(), "--out", model.toString(),
                "--layers", String.valueOf(args.integer("layers", 2)), "--embed", String.valueOf(args.integer("embed", 64)),
                "--seed", String.valueOf(seed), "--log-every", "50", "--eval-every", "200", "--checkpoint-every", "0"));
        if (fitSteps > 0) {
            fitArgs.addAll(List.of("--steps", String.valueOf(fitSteps)));
        }
        if (fitMinutes > 0) {
            fitArgs.addAll(List.of("--minutes", String.valueOf(fitMinutes)));
        }
        int fitted = fit.run(Args.parse(fitArgs.toArray(new String[0]), 0), out, err);
        if (fitted != 0) {
            return fitted;
        }
        double fitSeconds = (System.nanoTime() - fitStart) / 1e9;

        // 3. The line statistic: chosen on labelled lines of the training side, never on the evaluated ones.
        LineStatistic statistic = fixedStatistic;
        boolean standardized = true;
        if (statistic == null) {
            out.printf(Locale.ROOT, "[3/5] choosing the line statistic: the model scores a validation stream of %,d lines"
                    + " (seed %d, not the evaluated stream's)%n", validationLines, seed + 2);
            List<Line> validation = new SyntheticLogs(seed + 2, anomalyRate).next(validationLines);
            long chooseStart = System.nanoTime();
            StatisticChoice choice = StatisticChoice.on(new RwkvLineScorer(RwkvModel.load(model)), validation,
                    new AnomalyDetector(AnomalyDetector.DEFAULT_ALPHA, AnomalyDetector.DEFAULT_WARMUP, threshold,
                            AnomalyDetector.DEFAULT_MIN_STD));
            choice.print(out);
            out.printf(Locale.ROOT, "(validation scored in %.0f s)%n", (System.nanoTime() - chooseStart) / 1e9);
            statistic = choice.chosen().statistic();
            standardized = choice.chosen().standardized();
        } else {
            out.printf(Locale.ROOT, "[3/5] line statistic: %s (--line-statistic)%n", statistic.label());
        }

        // 3. Stream: broker, job, feed, watcher.
        out.printf(Locale.ROOT, "[4/5] streaming %,d lines at %.0f lines/s through Kafka into score-logs (embedded"
                + " MiniCluster); flagged lines follow as their scores are committed%n", lines, rate);
        LineScore[] scores = new LineScore[lines];
        double streamSeconds;
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String bs = kafka.bootstrapServers();
            out.println(kafka.describe());
            // One partition each: input offsets are line numbers; a key's scores stay in order.
            kafka.createTopics(1, INPUT_TOPIC, OUTPUT_TOPIC, DEAD_LETTER_TOPIC);
            String[] job = {"--model", model.toAbsolutePath().toString(), "--threshold", String.valueOf(threshold),
                    "--line-statistic", statistic.label(),
                    "--group-id", "flink-rwkv-demo", "--transactional-id-prefix", "flink-rwkv-demo",
                    "--bootstrap-servers", bs, "--input-topic", INPUT_TOPIC, "--output-topic", OUTPUT_TOPIC,
                    "--dead-letter-topic", DEAD_LETTER_TOPIC, "--partitions", "1", "--key-pattern", SyntheticLogs.KEY_PATTERN,
                    "--checkpoint-interval-ms", String.valueOf(checkpointMs),
                    "--checkpoint-dir", dir.resolve("checkpoints").toAbsolutePath().toString(),
                    "--web-ui-port", args.string("web-ui-port", "0")};
            long t0 = System.nanoTime();
            try (ScoreWatcher watcher = new ScoreWatcher(bs, OUTPUT_TOPIC, lines,
                         (s, i) -> printIfFlagged(out, i, stream.get(i), s)).start();
                 ScoreLogsRun scoring = ScoreLogsRun.start(scoreLogs, job, out, err);
                 LiveFeed feed = new LiveFeed(bs, INPUT_TOPIC, stream, rate).start()) {
                awaitScores(watcher, feed, scoring, lines, stallSeconds, out);
                streamSeconds = (System.nanoTime() - t0) / 1e9;
                scoring.stop();
                watcher.close();
                for (int i = 0; i < lines; i++) {
                    scores[i] = watcher.score(i);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }

        // 4. Verdict.
        DemoReport report = new DemoReport(labels, scores, LabelledLog.readBglTrusted(labelled), streamSeconds,
                statistic.label(), standardized);
        Path html = dir.resolve("demo.html");
        report.writeHtml(html);
        out.printf(Locale.ROOT, "[5/5] fit %.0f s, stream %.0f s; scores against the generator's labels:%n", fitSeconds, streamSeconds);
        report.print(out);
        out.println("scores over time: " + html.toAbsolutePath());
        return 0;
    }

    /** Waits until every line has its score, the job or the feed fails, or no score arrives for too long. */
    private static void awaitScores(ScoreWatcher watcher, LiveFeed feed, ScoreLogsRun job, int lines, int stallSeconds,
                                    PrintStream out) throws IOException, InterruptedException {
        int last = -1;
        long lastChange = System.nanoTime();
        while (watcher.received() < lines) {
            if (feed.failure() != null) {
                throw new IOException("could not feed the input topic: " + feed.failure().getMessage(), feed.failure());
            }
            if (watcher.failure() != null) {
                throw new IOException("could not read the output topic: " + watcher.failure().getMessage(), watcher.failure());
            }
            if (job.failure() != null) {
                throw job.failure();
            }
            int now = watcher.received();
            if (now != last) {
                last = now;
                lastChange = System.nanoTime();
            } else if (feed.done() && System.nanoTime() - lastChange > stallSeconds * 1e9) {
                out.printf("no new score for %d s; stopping with %d of %d lines scored%n", stallSeconds, now, lines);
                return;
            }
            Thread.sleep(100);
        }
    }

    private static void printIfFlagged(PrintStream out, int i, Line line, LineScore score) {
        // Called on the watcher's thread; one println per line keeps lines whole.
        if (score.flagged) {
            out.println(String.format(Locale.ROOT, "FLAGGED line %5d  score %6.2f  %-9s %s", i + 1, score.score,
                    line.label().anomalous() ? "[" + line.label().category() + "]" : "[normal]", line.text()));
        }
    }

    /**
     * The {@code score-logs} command (default batching) started on its own thread. The job reads an unbounded topic, so the demo stops it once every line is
     * scored: it interrupts the launcher, which cancels the job.
     */
    static final class ScoreLogsRun implements AutoCloseable {
        private final Thread thread;
        private final AtomicReference<IOException> failure = new AtomicReference<>();
        private volatile boolean stopping;

        private ScoreLogsRun(Command scoreLogs, String[] options, PrintStream out, PrintStream err) {
            thread = new Thread(() -> {
                try {
                    int rc = scoreLogs.run(Args.parse(options, 0), out, err);
                    if (rc != 0 && !stopping) {
                        failure.set(new IOException("score-logs exited with " + rc));
                    }
                } catch (IOException | RuntimeException e) {
                    if (!stopping) {
                        failure.set(e instanceof IOException io ? io : new IOException("score-logs failed: " + e.getMessage(), e));
                    }
                }
            }, "demo-score-logs");
            thread.setDaemon(true);
        }

        static ScoreLogsRun start(Command scoreLogs, String[] options, PrintStream out, PrintStream err) {
            ScoreLogsRun r = new ScoreLogsRun(scoreLogs, options, out, err);
            r.thread.start();
            return r;
        }

        IOException failure() {
            return failure.get();
        }

        void stop() throws InterruptedException {
            stopping = true;
            thread.interrupt();
            thread.join(60_000);
        }

        @Override
        public void close() throws InterruptedException {
            if (thread.isAlive()) {
                stop();
            }
        }
    }
}
