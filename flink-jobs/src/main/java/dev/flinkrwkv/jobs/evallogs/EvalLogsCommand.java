package dev.flinkrwkv.jobs.evallogs;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.DeviceArgs;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.ModelTokenizer;
import dev.flinkrwkv.jobs.cli.NormalizeArgs;
import dev.flinkrwkv.jobs.cli.UsageException;
import dev.flinkrwkv.jobs.format.RawRecord;
import dev.flinkrwkv.jobs.format.RecordParser;
import dev.flinkrwkv.jobs.logs.AnomalyDetector;
import dev.flinkrwkv.jobs.logs.DeflateLineScorer;
import dev.flinkrwkv.jobs.logs.DictionaryDeflateScorer;
import dev.flinkrwkv.jobs.logs.EvalReportHtml;
import dev.flinkrwkv.jobs.logs.KneserNeyScorer;
import dev.flinkrwkv.jobs.logs.LabelledLog;
import dev.flinkrwkv.jobs.logs.LineScorer;
import dev.flinkrwkv.jobs.logs.LineNormalizer;
import dev.flinkrwkv.jobs.logs.FitInfo;
import dev.flinkrwkv.jobs.logs.LineStatistic;
import dev.flinkrwkv.jobs.logs.LineStatisticChoice;
import dev.flinkrwkv.jobs.logs.LineSurprisal;
import dev.flinkrwkv.jobs.logs.LogEvaluation;
import dev.flinkrwkv.jobs.logs.NgramLineScorer;
import dev.flinkrwkv.jobs.logs.RankMetrics;
import dev.flinkrwkv.jobs.logs.RwkvLineScorer;
import dev.flinkrwkv.jobs.logs.TrainedScorer;
import dev.flinkrwkv.jobs.logs.UnseenTemplateScorer;
import dev.flinkrwkv.jobs.logs.UnseenWordsScorer;
import dev.flinkrwkv.rwkv.RwkvModel;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code eval-logs}: scores a labelled log file (BGL format) with the RWKV model and baselines, the same
 * per-line aggregation and baseline as score-logs, and prints AUROC (with a bootstrap 95% interval) and
 * average precision over the evaluated part; optionally writes an HTML page with the plots.
 *
 * <p>Two kinds of baseline. The trained ones ({@link TrainedScorer}) are fitted to the training lines, the
 * same lines a model is fitted to ({@code --write-train}: the normal lines before the evaluated part, or
 * {@code --train FILE}), and frozen while scoring: the fair comparison for a fitted model. The online ones
 * ({@code ngram-online}, {@code deflate-online}) learn from the evaluated lines as they come, anomalies
 * included, as a detector with no training data must.
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
        return "--input LOG [--labels REGEX | --label-file FILE | --unlabelled] [--model MODEL] [--ensemble MODEL2,...] " + ModelTokenizer.USAGE
                + " [--scorer all|trained|online|NAME,...] [--train-fraction 0.5] [--train TRAIN.txt]"
                + " [--line-statistic " + LineStatistic.labels() + "] " + NormalizeArgs.USAGE
                + " [--lines N] [--key-pattern REGEX] [--ngram-order " + NgramLineScorer.DEFAULT_ORDER + "]"
                + " [--alpha " + AnomalyDetector.DEFAULT_ALPHA + "] [--warmup " + AnomalyDetector.DEFAULT_WARMUP + "]"
                + " [--threshold " + AnomalyDetector.DEFAULT_THRESHOLD + "] [--html OUT.html] [--write-train TRAIN.txt]"
                + " [--write-scores SCORES.tsv] "
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
        LineStatistic statistic = null;
        if (args.has("line-statistic")) {
            try {
                statistic = LineStatistic.parse(args.string("line-statistic"));
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
        }
        Scorers scorers = scorers(args, which, err);

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
        for (LineScorer s : scorers.online()) {
            Progress p = new Progress(s.name(), log, err);
            if (s instanceof RwkvLineScorer rwkv) {
                int[][] unseenBy = args.has("train") ? null : unseenBy(memberFits(args), log, evalFrom, err);
                results.addAll(rwkvStatistics(rwkv, log, keys, evalFrom, detector, input.getFileName().toString(), p,
                        statistic, unseenBy, err));
            } else {
                results.add(LogEvaluation.run(s, log, keys, evalFrom, detector, input.getFileName().toString(), p::report));
            }
            p.done();
        }
        if (log.labelled()) {
            List<Row> rows = new ArrayList<>();
            for (LogEvaluation.Result r : results) {
                rows.add(Row.of(r, log, evalFrom));
            }
            List<TrainedScorer> trained = scorers.trained();
            if (!trained.isEmpty()) {
                List<byte[]> train = trainingLines(args, log, evalFrom);
                if (train.isEmpty()) {
                    if (!which.equals("all")) {
                        throw new UsageException("the trained baselines need training lines: --train FILE or --train-fraction above 0");
                    }
                    err.println("no training lines (--train FILE or --train-fraction above 0): no trained baselines");
                } else {
                    err.printf(Locale.ROOT, "trained baselines: fitted to %,d training lines%s, frozen while scoring%n",
                            train.size(), args.has("train") ? " from " + args.path("train") : " (the normal lines before the evaluated part)");
                    for (TrainedScorer t : trained) {
                        rows.add(Row.of(t, train, log, evalFrom));
                    }
                }
            }
            printLabelled(out, log, rows, results, evalFrom);
            if (args.has("write-scores")) {
                writeScores(args.path("write-scores"), log, rows, evalFrom);
                out.println("wrote " + args.path("write-scores"));
            }
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
            List<LogEvaluation.Result> plotted = results.stream().filter(r -> !r.scorer().startsWith("rwkv:")).toList();
            EvalReportHtml.write(html, "eval-logs: " + input.getFileName(), log, plotted, evalFrom, null);
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

    /**
     * {@code --write-scores}: one row per evaluated line (its number in the input, 1-based; its label, 1 for
     * an anomaly; each scorer's value as the table ranks it; the line), for a look at which lines each scorer
     * ranks high.
     */
    private static void writeScores(Path file, LabelledLog log, List<Row> rows, int evalFrom) throws IOException {
        StringBuilder sb = new StringBuilder("line\tlabel");
        for (Row r : rows) {
            sb.append('\t').append(r.scorer());
        }
        sb.append("\ttext\n");
        for (int i = evalFrom; i < log.size(); i++) {
            sb.append(i + 1).append('\t').append(log.anomalous(i) ? 1 : 0);
            for (Row r : rows) {
                sb.append('\t').append(String.format(Locale.ROOT, "%.5f", r.scores()[i - evalFrom]));
            }
            sb.append('\t').append(new String(log.text(i), java.nio.charset.StandardCharsets.UTF_8).replace('\t', ' ')).append('\n');
        }
        java.nio.file.Files.writeString(file, sb);
    }

    /** One scorer's line in the table: AUROC with its interval and AP; the detector's columns for online scorers. */
    private record Row(String scorer, double auroc, double[] interval, double ap, double aurocScore, double apScore,
                       int flagged, double seconds, double[] scores) {
        static final int REPLICATES = 1000;
        static final long SEED = 1;

        static Row of(LogEvaluation.Result r, LabelledLog log, int evalFrom) {
            double[] bits = new double[log.size() - evalFrom];
            for (int i = 0; i < bits.length; i++) {
                bits[i] = r.scores()[evalFrom + i].meanBits;
            }
            boolean[] labels = labels(log, evalFrom);
            return new Row(r.scorer(), r.aurocMeanBits(), RankMetrics.aurocInterval(bits, labels, 0.95, REPLICATES, SEED),
                    r.apMeanBits(), r.aurocScore(), r.apScore(), r.flagged(evalFrom), r.seconds(), bits);
        }

        static Row of(TrainedScorer t, List<byte[]> train, LabelledLog log, int evalFrom) {
            long t0 = System.nanoTime();
            t.train(train);
            double[] scores = new double[log.size() - evalFrom];
            for (int i = 0; i < scores.length; i++) {
                scores[i] = t.score(log.text(evalFrom + i));
            }
            boolean[] labels = labels(log, evalFrom);
            return new Row(t.name(), RankMetrics.auroc(scores, labels),
                    RankMetrics.aurocInterval(scores, labels, 0.95, REPLICATES, SEED),
                    RankMetrics.averagePrecision(scores, labels), Double.NaN, Double.NaN, -1, (System.nanoTime() - t0) / 1e9,
                    scores);
        }

        private static boolean[] labels(LabelledLog log, int evalFrom) {
            boolean[] labels = new boolean[log.size() - evalFrom];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = log.anomalous(evalFrom + i);
            }
            return labels;
        }
    }

    private static void printLabelled(PrintStream out, LabelledLog log, List<Row> rows, List<LogEvaluation.Result> online,
                                      int evalFrom) {
        out.printf(Locale.ROOT, "%-16s %7s %13s %7s %12s %9s %8s %8s%n", "scorer", "AUROC", "95% interval", "AP",
                "AUROC(score)", "AP(score)", "flagged", "seconds");
        for (Row r : rows) {
            boolean detector = r.flagged() >= 0;
            out.printf(Locale.ROOT, "%-16s %7.4f %13s %7.4f %12s %9s %8s %8.1f%n", r.scorer(), r.auroc(),
                    String.format(Locale.ROOT, "%.3f-%.3f", r.interval()[0], r.interval()[1]), r.ap(),
                    detector ? String.format(Locale.ROOT, "%.4f", r.aurocScore()) : "-",
                    detector ? String.format(Locale.ROOT, "%.4f", r.apScore()) : "-",
                    detector ? Integer.toString(r.flagged()) : "-", r.seconds());
        }
        if (!online.isEmpty()) {
            out.printf(Locale.ROOT, "%-16s %16s %19s%n", "scorer", "bits/B(normal)", "bits/B(anomalous)");
            for (LogEvaluation.Result r : online) {
                if (r.scorer().startsWith("rwkv:")) {
                    continue;
                }
                out.printf(Locale.ROOT, "%-16s %16.3f %19.3f%n", r.scorer(), r.normalBitsPerToken(), r.anomalousBitsPerToken());
            }
        }
        int evalAnomalies = 0;
        for (int i = evalFrom; i < log.size(); i++) {
            evalAnomalies += log.anomalous(i) ? 1 : 0;
        }
        out.printf(Locale.ROOT, "(%d evaluated lines, %d anomalies: a random score has AUROC 0.5 and AP %.4f;"
                        + " AUROC and AP rank the mean bits for the model and the online scorers, the score for trained ones)%n",
                log.size() - evalFrom, evalAnomalies, (double) evalAnomalies / (log.size() - evalFrom));
    }

    /**
     * The model's rows: one pass of the model over every key's lines, then each {@link LineStatistic} evaluated
     * from the same per-token surprisals. The statistic of the {@code rwkv} row is {@code --line-statistic}, or
     * the one {@link LineStatisticChoice} picks on the lines before the evaluated part (never the evaluated lines), or the
     * mean when that part has no labelled anomaly; the others follow as {@code rwkv:NAME}.
     *
     * @param unseenBy for each line before the evaluated part, the models (0: {@code --model}, then {@code --ensemble}'s)
     *     that never saw it, whose mean scores it for the choice; null: the whole ensemble scores every line
     */
    private static List<LogEvaluation.Result> rwkvStatistics(RwkvLineScorer rwkv, LabelledLog log, String[] keys, int evalFrom,
                                                             AnomalyDetector detector, String source, Progress p,
                                                             LineStatistic fixed, int[][] unseenBy, PrintStream err) {
        long t0 = System.nanoTime();
        float[][] logProbs = new float[log.size()][];
        int[] bodyStart = new int[log.size()];
        List<float[][]> memberLogProbs = new ArrayList<>();  // each model's own, for the lines before the evaluated part
        LogEvaluation.forEachKey(log, keys, (idx, lines, done) -> {
            List<RwkvLineScorer.TokenScores> members = rwkv.memberTokenScores(lines, n -> p.report(done + n));
            RwkvLineScorer.TokenScores ts = RwkvLineScorer.mean(members);
            while (memberLogProbs.size() < members.size()) {
                memberLogProbs.add(new float[evalFrom][]);
            }
            for (int j = 0; j < idx.size(); j++) {
                int line = idx.get(j);
                logProbs[line] = ts.logProbs()[j];
                bodyStart[line] = ts.bodyStart()[j];
                for (int m = 0; m < members.size() && line < evalFrom; m++) {
                    memberLogProbs.get(m)[line] = members.get(m).logProbs()[j];
                }
            }
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        java.util.Map<LineStatistic, LogEvaluation.Result> byStatistic = new java.util.EnumMap<>(LineStatistic.class);
        for (LineStatistic st : LineStatistic.values()) {
            LineSurprisal[] surprisal = new LineSurprisal[log.size()];
            for (int i = 0; i < surprisal.length; i++) {
                surprisal[i] = st.of(logProbs[i], bodyStart[i]);
            }
            byStatistic.put(st, LogEvaluation.evaluate("rwkv:" + st.label(), surprisal, log, keys, evalFrom, detector, source, seconds));
        }
        LineStatistic chosen = fixed;
        if (chosen == null) {
            chosen = LineStatistic.MEAN;
            boolean[] labels = new boolean[evalFrom];
            int anomalies = 0;
            for (int i = 0; i < evalFrom; i++) {
                labels[i] = log.anomalous(i);
                anomalies += labels[i] ? 1 : 0;
            }
            if (log.labelled() && anomalies > 0 && anomalies < evalFrom) {
                boolean crossFitted = unseenBy != null && memberLogProbs.size() > 1;
                float[][] choiceLogProbs = new float[evalFrom][];  // each line's, as the choice scores it
                for (int i = 0; i < evalFrom; i++) {
                    choiceLogProbs[i] = crossFitted ? meanOf(memberLogProbs, unseenBy[i], i) : logProbs[i];
                }
                java.util.Map<LineStatistic, double[]> values = new java.util.EnumMap<>(LineStatistic.class);
                for (LineStatistic st : byStatistic.keySet()) {
                    double[] v = new double[evalFrom];
                    for (int i = 0; i < evalFrom; i++) {
                        v[i] = st.of(choiceLogProbs[i], bodyStart[i]).meanBits();
                    }
                    values.put(st, v);
                }
                LineStatisticChoice.Choice choice = LineStatisticChoice.choose(values, labels);
                chosen = choice.chosen();
                err.printf(Locale.ROOT, "rwkv: line statistic %s, the best AUROC on lines 1-%d%s (%d anomalies;%s)%n",
                        chosen.label(), evalFrom, crossFitted ? ", each scored by the models whose fit left it out" : "",
                        anomalies, choice.figures());
            } else {
                err.printf(Locale.ROOT, "rwkv: line statistic mean (no labelled anomaly before line %d to choose on)%n", evalFrom + 1);
            }
        }
        List<LogEvaluation.Result> out = new ArrayList<>();
        LogEvaluation.Result main = byStatistic.get(chosen);
        LogEvaluation.Result mean = byStatistic.get(LineStatistic.MEAN);  // compression is the mean's business
        out.add(new LogEvaluation.Result("rwkv", main.scores(), main.aurocMeanBits(), main.apMeanBits(), main.aurocScore(),
                main.apScore(), main.seconds(), mean.normalBitsPerToken(), mean.anomalousBitsPerToken()));
        if (log.labelled()) {
            for (var e : byStatistic.entrySet()) {
                out.add(e.getValue());
            }
        }
        return out;
    }

    /** Line {@code line}'s token log-probabilities, the mean over the models {@code models}. */
    private static float[] meanOf(List<float[][]> memberLogProbs, int[] models, int line) {
        List<float[]> lines = new ArrayList<>(models.length);
        for (int m : models) {
            lines.add(memberLogProbs.get(m)[line]);
        }
        return RwkvLineScorer.meanLine(lines);
    }

    /** What fit wrote beside {@code --model} and each {@code --ensemble} model, in that order (null where nothing). */
    private static List<FitInfo> memberFits(Args args) throws IOException {
        List<FitInfo> fits = new ArrayList<>();
        if (!args.has("model")) {
            return fits;
        }
        fits.add(FitInfo.read(args.path("model")));
        for (String s : args.strings("ensemble")) {
            for (String f : s.split(",")) {
                fits.add(FitInfo.read(Path.of(f.trim())));
            }
        }
        return fits;
    }

    /**
     * For each line before the evaluated part, the models that never saw it: those fitted with {@code --leave-out}
     * to the normal lines of that part (what {@code --write-train} writes) whose left-out block holds it; an anomalous
     * line, which no model saw, goes with the normal line after it (the last one's block at the end), so that
     * anomalies and normal lines are scored alike. Null (with a word why, where some model was fitted with
     * {@code --leave-out}) unless every line has such a model.
     */
    static int[][] unseenBy(List<FitInfo> fits, LabelledLog log, int evalFrom, PrintStream err) {
        if (fits.size() < 2 || fits.stream().noneMatch(f -> f != null && f.leftOut() != null)) {
            return null;
        }
        int normal = 0;
        for (int i = 0; i < evalFrom; i++) {
            normal += log.anomalous(i) ? 0 : 1;
        }
        for (FitInfo f : fits) {
            if (f == null || f.leftOut() == null || f.inputLines() != normal) {
                err.printf(Locale.ROOT, "rwkv: choosing the line statistic on lines the models saw: only an ensemble of models"
                        + " all fitted with --leave-out to the %d normal lines before the evaluated part (--write-train)"
                        + " has models that never saw each%n", normal);
                return null;
            }
        }
        int[][] unseen = new int[evalFrom][];
        int k = 0;  // the normal lines before line i
        for (int i = 0; i < evalFrom; i++) {
            int at = Math.min(k, normal - 1);
            List<Integer> models = new ArrayList<>();
            for (int m = 0; m < fits.size(); m++) {
                if (fits.get(m).leftOut().leavesOut(at, normal)) {
                    models.add(m);
                }
            }
            if (models.isEmpty()) {
                err.printf(Locale.ROOT, "rwkv: choosing the line statistic on lines the models saw: every model saw line %d"
                        + " (fit one with each block of --leave-out I/K, I = 1..K)%n", i + 1);
                return null;
            }
            unseen[i] = models.stream().mapToInt(Integer::intValue).toArray();
            k += log.anomalous(i) ? 0 : 1;
        }
        return unseen;
    }

    /** The lines the trained baselines are fitted to: {@code --train FILE}, else what {@code --write-train} writes. */
    private static List<byte[]> trainingLines(Args args, LabelledLog log, int evalFrom) throws IOException {
        List<byte[]> lines = new ArrayList<>();
        if (args.has("train")) {
            byte[] all = java.nio.file.Files.readAllBytes(args.path("train"));
            int start = 0;
            for (int i = 0; i <= all.length; i++) {
                if (i == all.length || all[i] == '\n') {
                    int end = i > start && all[i - 1] == '\r' ? i - 1 : i;
                    if (end > start) {
                        lines.add(java.util.Arrays.copyOfRange(all, start, end));
                    }
                    start = i + 1;
                }
            }
            return lines;
        }
        for (int i = 0; i < evalFrom; i++) {
            if (!log.anomalous(i)) {
                lines.add(log.text(i));
            }
        }
        return lines;
    }

    /** What {@code --scorer} asked for: scorers evaluated online per key, and trained baselines. */
    private record Scorers(List<LineScorer> online, List<TrainedScorer> trained) {}

    static final List<String> NAMES = List.of("rwkv", "kn-ngram", "deflate-dict", "unseen-words", "unseen-template",
            "ngram-online", "deflate-online");

    private static Scorers scorers(Args args, String which, PrintStream err) throws IOException {
        int order = args.integer("ngram-order", NgramLineScorer.DEFAULT_ORDER);
        List<String> names = new ArrayList<>();
        for (String name : which.split(",")) {
            switch (name.trim()) {
                case "all" -> {
                    if (args.has("model")) {
                        names.add("rwkv");
                    } else {
                        err.println("no --model: scoring with the baselines only");
                    }
                    names.addAll(NAMES.subList(1, NAMES.size()));
                }
                case "trained" -> names.addAll(NAMES.subList(1, 5));
                case "online" -> names.addAll(NAMES.subList(5, 7));
                default -> {
                    if (!NAMES.contains(name.trim())) {
                        throw new UsageException("--scorer takes all, trained, online or names from " + String.join(", ", NAMES)
                                + " (comma-separated), got '" + name.trim() + "'");
                    }
                    names.add(name.trim());
                }
            }
        }
        List<LineScorer> online = new ArrayList<>();
        List<TrainedScorer> trained = new ArrayList<>();
        for (String name : names.stream().distinct().toList()) {
            switch (name) {
                case "rwkv" -> online.add(rwkv(args, err));
                case "ngram-online" -> online.add(new NgramLineScorer(order));
                case "deflate-online" -> online.add(new DeflateLineScorer());
                case "kn-ngram" -> trained.add(new KneserNeyScorer());
                case "deflate-dict" -> trained.add(new DictionaryDeflateScorer());
                case "unseen-words" -> trained.add(new UnseenWordsScorer());
                case "unseen-template" -> trained.add(new UnseenTemplateScorer());
                default -> throw new IllegalStateException(name);
            }
        }
        return new Scorers(online, trained);
    }

    private static LineScorer rwkv(Args args, PrintStream err) throws IOException {
        if (!args.has("model")) {
            throw new UsageException("the rwkv scorer needs --model");
        }
        ModelTokenizer mt = ModelTokenizer.of(args);
        LineNormalizer normalizer = NormalizeArgs.forModel(args, mt.model(), err);
        List<RwkvModel> more = new ArrayList<>();
        for (String s : args.strings("ensemble")) {
            for (String f : s.split(",")) {
                Path p = Path.of(f.trim());
                if (NormalizeArgs.forModel(args, p, err) != normalizer) {
                    throw new UsageException("--ensemble: " + p + " was fitted to lines normalized otherwise than " + mt.model());
                }
                more.add(RwkvModel.load(p));
            }
        }
        return new RwkvLineScorer(RwkvModel.load(mt.model()), mt.tokenizer(), DeviceArgs.parse(args))
                .withNormalizer(normalizer)
                .withEnsemble(more);
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
