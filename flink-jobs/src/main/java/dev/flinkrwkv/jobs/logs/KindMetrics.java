package dev.flinkrwkv.jobs.logs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AUROC and average precision ({@link RankMetrics}) of a scorer's lines, over all anomalies and per anomaly
 * kind (the log's category: a BGL alert category, a demo anomaly kind): each row ranks that kind's lines
 * against the normal lines, for the raw mean surprisal and for the standardized score. Lines without a
 * score (null) are left out.
 */
public final class KindMetrics {
    /** The row over every anomaly is named this. */
    public static final String ALL = "all anomalies";

    /** One row of the table. */
    public record Row(String kind, int anomalies, int normal, double aurocMeanBits, double apMeanBits,
                      double aurocScore, double apScore) {}

    private KindMetrics() {}

    /**
     * The row over all anomalies, then one per kind in {@code kinds} (null: the kinds found in lines
     * {@code from} on, the most frequent first), for lines {@code from} to the end.
     */
    public static List<Row> rows(LabelledLog log, LineScore[] scores, int from, List<String> kinds) {
        List<String> order = kinds != null ? kinds : kindsByCount(log, from);
        List<Row> rows = new ArrayList<>();
        rows.add(row(ALL, log, scores, from, null));
        for (String k : order) {
            rows.add(row(k, log, scores, from, k));
        }
        return rows;
    }

    private static List<String> kindsByCount(LabelledLog log, int from) {
        Map<String, Integer> count = new LinkedHashMap<>();
        for (int i = from; i < log.size(); i++) {
            if (log.anomalous(i)) {
                count.merge(log.category(i), 1, Integer::sum);
            }
        }
        List<String> kinds = new ArrayList<>(count.keySet());
        kinds.sort((a, b) -> Integer.compare(count.get(b), count.get(a)));
        return kinds;
    }

    /** The lines of {@code kind} (null: every anomaly) against the normal lines. */
    private static Row row(String name, LabelledLog log, LineScore[] scores, int from, String kind) {
        Ranked r = ranked(log, scores, from, kind);
        return new Row(name, r.anomalies, r.truth.length - r.anomalies, RankMetrics.auroc(r.bits, r.truth),
                RankMetrics.averagePrecision(r.bits, r.truth), RankMetrics.auroc(r.z, r.truth),
                RankMetrics.averagePrecision(r.z, r.truth));
    }

    /**
     * The bootstrap interval ({@link RankMetrics#aurocInterval}) of a row's AUROC: {@code {low, high}} for the
     * mean bits and then for the standardized score, over the same lines as {@link #rows}.
     *
     * @param kind the kind (null: every anomaly)
     */
    public static double[][] aurocIntervals(LabelledLog log, LineScore[] scores, int from, String kind, double level,
                                            int replicates, long seed) {
        Ranked r = ranked(log, scores, from, kind);
        return new double[][] {RankMetrics.aurocInterval(r.bits, r.truth, level, replicates, seed),
                RankMetrics.aurocInterval(r.z, r.truth, level, replicates, seed)};
    }

    /** A row's lines: their mean bits, standardized scores and truth. */
    private record Ranked(double[] bits, double[] z, boolean[] truth, int anomalies) {}

    private static Ranked ranked(LabelledLog log, LineScore[] scores, int from, String kind) {
        List<Integer> idx = new ArrayList<>();
        int anomalies = 0;
        for (int i = from; i < scores.length; i++) {
            boolean a = log.anomalous(i);
            if (scores[i] != null && (!a || kind == null || kind.equals(log.category(i)))) {
                idx.add(i);
                anomalies += a ? 1 : 0;
            }
        }
        double[] bits = new double[idx.size()];
        double[] z = new double[idx.size()];
        boolean[] truth = new boolean[idx.size()];
        for (int j = 0; j < idx.size(); j++) {
            LineScore s = scores[idx.get(j)];
            bits[j] = s.meanBits;
            z[j] = s.score;
            truth[j] = log.anomalous(idx.get(j));
        }
        return new Ranked(bits, z, truth, anomalies);
    }
}
