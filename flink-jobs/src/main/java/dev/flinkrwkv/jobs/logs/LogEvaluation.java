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
        long t0 = System.nanoTime();
        LineSurprisal[] surprisal = new LineSurprisal[log.size()];
        forEachKey(log, keys, (idx, lines, done) -> {
            LineSurprisal[] s = scorer.score(lines, n -> progress.accept(done + n));
            for (int j = 0; j < s.length; j++) {
                surprisal[idx.get(j)] = s[j];
            }
        });
        return evaluate(scorer.name(), surprisal, log, keys, evalFrom, detector, source, (System.nanoTime() - t0) / 1e9);
    }

    /** What {@link #forEachKey} hands over: a key's line numbers in file order, their texts, and the lines done before. */
    public interface KeyLines {
        void accept(List<Integer> lineNumbers, List<byte[]> lines, int linesDone);
    }

    /** Calls {@code action} for each key's lines, in file order within the key, keys in order of first appearance. */
    public static void forEachKey(LabelledLog log, String[] keys, KeyLines action) {
        if (keys.length != log.size()) {
            throw new IllegalArgumentException(keys.length + " keys for " + log.size() + " lines");
        }
        Map<String, List<Integer>> byKey = new LinkedHashMap<>();
        for (int i = 0; i < keys.length; i++) {
            byKey.computeIfAbsent(keys[i], k -> new ArrayList<>()).add(i);
        }
        int done = 0;
        for (List<Integer> idx : byKey.values()) {
            List<byte[]> lines = new ArrayList<>(idx.size());
            for (int i : idx) {
                lines.add(log.text(i));
            }
            action.accept(idx, lines, done);
            done += idx.size();
        }
    }

    /**
     * The metrics of per-line surprisals already computed (one per line of the log): each key's lines go through
     * the detector against their key's baseline, then AUROC and AP over lines {@code evalFrom..}.
     */
    public static Result evaluate(String name, LineSurprisal[] surprisal, LabelledLog log, String[] keys, int evalFrom,
                                  AnomalyDetector detector, String source, double seconds) {
        if (keys.length != log.size() || surprisal.length != log.size()) {
            throw new IllegalArgumentException(keys.length + " keys and " + surprisal.length + " scores for " + log.size() + " lines");
        }
        if (evalFrom < 0 || evalFrom >= log.size()) {
            throw new IllegalArgumentException("nothing to evaluate: the evaluated part starts at line " + (evalFrom + 1)
                    + " of " + log.size());
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
        return new Result(name, scores, RankMetrics.auroc(meanBits, labels), RankMetrics.averagePrecision(meanBits, labels),
                RankMetrics.auroc(z, labels), RankMetrics.averagePrecision(z, labels), seconds,
                tokens[0] == 0 ? Double.NaN : bits[0] / tokens[0], tokens[1] == 0 ? Double.NaN : bits[1] / tokens[1]);
    }
}
