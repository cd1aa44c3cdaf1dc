package dev.flinkrwkv.jobs.logs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * eval-logs' core: scores a labelled log with one {@link LineScorer}, per key, and measures how well the
 * scores find the labelled anomalies. Each key's lines go through the scorer in file order (its own
 * history), then through the same {@link AnomalyDetector} as score-logs (its own baseline). The first
 * {@code evalFrom} lines of the file only warm the scorers and baselines up; AUROC and average precision
 * are computed over the rest, for two scores: the raw mean surprisal (bits per token) and the
 * standardized score; so are the bits per token over all normal and over all anomalous evaluated lines (each
 * line weighted by its tokens), the compression a fitted model reaches on the traffic it should find normal.
 */
public final class LogEvaluation {
    private LogEvaluation() {}

    /** One scorer's result: a {@link LineScore} per line of the file, and the metrics over the evaluated part. */
    public record Result(String scorer, LineScore[] scores, double aurocMeanBits, double apMeanBits,
                         double aurocScore, double apScore, double seconds, double normalBitsPerToken,
                         double anomalousBitsPerToken) {
        /** Lines flagged from line {@code from} (counted from 0) on. */
        public int flagged(int from) {
            int c = 0;
            for (int i = from; i < scores.length; i++) {
                c += scores[i].flagged ? 1 : 0;
            }
            return c;
        }
    }

    /**
     * @param keys the key of each line (same length as the log)
     * @param source the name the scores carry as their source (the file)
     */
    public static Result run(LineScorer scorer, LabelledLog log, String[] keys, int evalFrom, AnomalyDetector detector,
                             String source, IntConsumer progress) {
        if (keys.length != log.size()) {
            throw new IllegalArgumentException(keys.length + " keys for " + log.size() + " lines");
        }
        if (evalFrom < 0 || evalFrom >= log.size()) {
            throw new IllegalArgumentException("nothing to evaluate: the evaluated part starts at line " + (evalFrom + 1)
                    + " of " + log.size());
        }
        long t0 = System.nanoTime();
        Map<String, List<Integer>> byKey = new LinkedHashMap<>();
        for (int i = 0; i < keys.length; i++) {
            byKey.computeIfAbsent(keys[i], k -> new ArrayList<>()).add(i);
        }
        LineSurprisal[] surprisal = new LineSurprisal[log.size()];
        int[] done = {0};
        for (List<Integer> idx : byKey.values()) {
            List<byte[]> lines = new ArrayList<>(idx.size());
            for (int i : idx) {
                lines.add(log.text(i));
            }
            int base = done[0];
            LineSurprisal[] s = scorer.score(lines, n -> progress.accept(base + n));
            for (int j = 0; j < s.length; j++) {
                surprisal[idx.get(j)] = s[j];
            }
            done[0] += idx.size();
        }
        Map<String, Baseline> baselines = new LinkedHashMap<>();
        LineScore[] scores = new LineScore[log.size()];
        for (int i = 0; i < scores.length; i++) {
            Baseline b = baselines.computeIfAbsent(keys[i], k -> new Baseline());
            scores[i] = detector.score(keys[i], source, -1, i + 1, surprisal[i], b);
        }
        int n = log.size() - evalFrom;
        double[] meanBits = new double[n];
        double[] z = new double[n];
        boolean[] labels = new boolean[n];
        double[] bits = new double[2];   // [normal, anomalous]
        long[] tokens = new long[2];
        for (int i = 0; i < n; i++) {
            LineScore s = scores[evalFrom + i];
            meanBits[i] = s.meanBits;
            z[i] = s.score;
            labels[i] = log.anomalous(evalFrom + i);
            int c = labels[i] ? 1 : 0;
            bits[c] += s.meanBits * s.tokens;
            tokens[c] += s.tokens;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Result(scorer.name(), scores, RankMetrics.auroc(meanBits, labels), RankMetrics.averagePrecision(meanBits, labels),
                RankMetrics.auroc(z, labels), RankMetrics.averagePrecision(z, labels), seconds,
                tokens[0] == 0 ? Double.NaN : bits[0] / tokens[0], tokens[1] == 0 ? Double.NaN : bits[1] / tokens[1]);
    }
}
