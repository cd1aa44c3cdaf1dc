package dev.flinkrwkv.jobs.demo;

import dev.flinkrwkv.jobs.demo.SyntheticLogs.Label;
import dev.flinkrwkv.jobs.demo.SyntheticLogs.Line;
import dev.flinkrwkv.jobs.logs.AnomalyDetector;
import dev.flinkrwkv.jobs.logs.KindMetrics;
import dev.flinkrwkv.jobs.logs.LabelledLog;
import dev.flinkrwkv.jobs.logs.LineStatistic;
import dev.flinkrwkv.jobs.logs.LineSurprisal;
import dev.flinkrwkv.jobs.logs.LogEvaluation;
import dev.flinkrwkv.jobs.logs.RwkvLineScorer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the demo chooses score-logs' {@code --line-statistic}: on a labelled <em>validation</em> stream, which the
 * generator makes on the training side (its own seed: never the lines the demo then evaluates), scored
 * offline by the fitted model key by key ({@link RwkvLineScorer}, the log-probabilities score-logs computes for
 * the same lines in the same order) and standardized by the same {@link AnomalyDetector}. Each statistic is
 * ranked against the labels per anomaly kind twice, by its bits and by its standardized score (which one
 * ranks better depends on how much a key's normal level drifts), and the pair with the best mean AUROC over
 * the kinds wins: each kind weighs the same, so that bursts, a dozen lines each, do not outvote the broken
 * sequences, one or two lines each.
 */
final class StatisticChoice {
    /**
     * One statistic's AUROC per anomaly kind (in {@link Label} order) and their mean, ranked by its bits or by
     * its standardized score.
     */
    record Candidate(LineStatistic statistic, boolean standardized, double[] aurocPerKind, double kindMean) {
        String name() {
            return statistic.label() + (standardized ? " score" : " bits");
        }
    }

    private final List<Candidate> candidates;
    private final Candidate chosen;
    private final int lines;
    private final int anomalies;
    /** The validation stream's anomalous lines per kind, in {@link Label} order. */
    private final int[] linesPerKind;

    private StatisticChoice(List<Candidate> candidates, Candidate chosen, int lines, int anomalies, int[] linesPerKind) {
        this.candidates = candidates;
        this.chosen = chosen;
        this.lines = lines;
        this.anomalies = anomalies;
        this.linesPerKind = linesPerKind;
    }

    /** Scores {@code validation} with {@code scorer} and ranks every {@link LineStatistic} on it. */
    static StatisticChoice on(RwkvLineScorer scorer, List<Line> validation, AnomalyDetector detector) throws IOException {
        StringBuilder labelled = new StringBuilder();
        String[] keys = new String[validation.size()];
        Pattern key = Pattern.compile(SyntheticLogs.KEY_PATTERN);
        int anomalies = 0;
        int[] linesPerKind = new int[Label.values().length - 1];
        for (int i = 0; i < keys.length; i++) {
            Line l = validation.get(i);
            labelled.append(l.label().category()).append(' ').append(l.text()).append('\n');
            Matcher m = key.matcher(l.text());
            keys[i] = m.find() ? m.group(1) : "";
            if (l.label().anomalous()) {
                anomalies++;
                linesPerKind[l.label().ordinal() - 1]++;
            }
        }
        LabelledLog log = LabelledLog.parseBgl(labelled.toString().getBytes(StandardCharsets.UTF_8), "validation");
        float[][] logProbs = new float[log.size()][];
        int[] bodyStart = new int[log.size()];
        // The keys' histories are independent: one task each, the CPU's cores in parallel.
        Map<String, List<Integer>> byKey = new LinkedHashMap<>();
        for (int i = 0; i < keys.length; i++) {
            byKey.computeIfAbsent(keys[i], k -> new ArrayList<>()).add(i);
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(byKey.size(), Runtime.getRuntime().availableProcessors()));
        try {
            List<Future<?>> tasks = new ArrayList<>();
            for (List<Integer> idx : byKey.values()) {
                tasks.add(pool.submit(() -> {
                    List<byte[]> texts = new ArrayList<>(idx.size());
                    idx.forEach(i -> texts.add(log.text(i)));
                    RwkvLineScorer.TokenScores ts = scorer.tokenScores(texts, n -> { });
                    for (int j = 0; j < idx.size(); j++) {
                        logProbs[idx.get(j)] = ts.logProbs()[j];
                        bodyStart[idx.get(j)] = ts.bodyStart()[j];
                    }
                }));
            }
            for (Future<?> t : tasks) {
                t.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IOException("could not score the validation stream: " + e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        List<String> kinds = kinds();
        List<Candidate> candidates = new ArrayList<>();
        Candidate best = null;
        for (LineStatistic st : LineStatistic.values()) {
            LineSurprisal[] surprisal = new LineSurprisal[log.size()];
            for (int i = 0; i < surprisal.length; i++) {
                surprisal[i] = st.of(logProbs[i], bodyStart[i]);
            }
            LogEvaluation.Result r = LogEvaluation.evaluate(st.label(), surprisal, log, keys, 0, detector, "validation", 0);
            List<KindMetrics.Row> rows = KindMetrics.rows(log, r.scores(), 0, kinds);
            for (boolean standardized : new boolean[] {false, true}) {
                double[] perKind = new double[kinds.size()];
                double sum = 0;
                int counted = 0;
                for (int k = 0; k < perKind.length; k++) {
                    KindMetrics.Row row = rows.get(k + 1);
                    perKind[k] = standardized ? row.aurocScore() : row.aurocMeanBits();
                    if (!Double.isNaN(perKind[k])) {
                        sum += perKind[k];
                        counted++;
                    }
                }
                Candidate c = new Candidate(st, standardized, perKind, counted == 0 ? Double.NaN : sum / counted);
                candidates.add(c);
                if (best == null || c.kindMean() > best.kindMean()) {  // strict: the first of equals
                    best = c;
                }
            }
        }
        return new StatisticChoice(candidates, best, log.size(), anomalies, linesPerKind);
    }

    /** The anomaly kinds, as the labelled files name them. */
    static List<String> kinds() {
        List<String> kinds = new ArrayList<>();
        for (Label k : Label.values()) {
            if (k.anomalous()) {
                kinds.add(k.category());
            }
        }
        return kinds;
    }

    Candidate chosen() {
        return chosen;
    }

    List<Candidate> candidates() {
        return candidates;
    }

    /** The table of candidates and the choice. */
    void print(PrintStream out) {
        List<String> kinds = kinds();
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "  %-19s", "ranked by"));
        kinds.forEach(k -> head.append(String.format(Locale.ROOT, " %9s", k)));
        StringBuilder counts = new StringBuilder();
        for (int k = 0; k < kinds.size(); k++) {
            counts.append(k == 0 ? "" : ", ").append(kinds.get(k)).append(' ').append(linesPerKind[k]);
        }
        out.printf(Locale.ROOT, "validation stream: %,d lines, %d labelled anomalous (%s); AUROC per kind of each line"
                + " statistic:%n", lines, anomalies, counts);
        out.println(head.append(String.format(Locale.ROOT, " %9s", "mean")));
        for (Candidate c : candidates) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%s %-19s", c == chosen ? "*" : " ", c.name()));
            for (double v : c.aurocPerKind()) {
                row.append(String.format(Locale.ROOT, " %9.4f", v));
            }
            out.println(row.append(String.format(Locale.ROOT, " %9.4f", c.kindMean())));
        }
        out.printf(Locale.ROOT, "chosen: --line-statistic %s, ranked by its %s (the best mean over the kinds)%n",
                chosen.statistic().label(), chosen.standardized() ? "standardized score" : "bits");
    }
}
