package dev.flinkrwkv.jobs.logs;

import java.util.Arrays;
import java.util.Comparator;

/**
 * How well a score ranks anomalies above normal lines, threshold-free: the area under the ROC curve and
 * average precision. Higher scores mean "more anomalous". Ties are handled exactly:
 * <ul>
 *   <li>AUROC is the Mann-Whitney statistic with mid-ranks: the probability that a random anomaly scores
 *       above a random normal line, a tie counting one half.</li>
 *   <li>Average precision is {@code sum_k (R_k - R_{k-1}) P_k} over the distinct score values from the top
 *       (a group of tied scores is one threshold: its lines are included all at once), the same definition
 *       as scikit-learn's {@code average_precision_score}.</li>
 * </ul>
 * Both are NaN when there are no anomalies (and AUROC also when there are no normal lines).
 */
public final class RankMetrics {
    private RankMetrics() {}

    public static double auroc(double[] scores, boolean[] anomalous) {
        check(scores, anomalous);
        int n = scores.length;
        Integer[] order = byScore(scores, false);
        long positives = 0;
        double rankSum = 0;
        for (int i = 0; i < n; ) {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
                j++;
            }
            double midRank = (i + j) / 2.0 + 1;  // ranks from 1
            for (int t = i; t <= j; t++) {
                if (anomalous[order[t]]) {
                    positives++;
                    rankSum += midRank;
                }
            }
            i = j + 1;
        }
        long negatives = n - positives;
        if (positives == 0 || negatives == 0) {
            return Double.NaN;
        }
        double u = rankSum - positives * (positives + 1) / 2.0;
        return u / ((double) positives * negatives);
    }

    public static double averagePrecision(double[] scores, boolean[] anomalous) {
        check(scores, anomalous);
        int n = scores.length;
        long positives = 0;
        for (boolean a : anomalous) {
            if (a) {
                positives++;
            }
        }
        if (positives == 0) {
            return Double.NaN;
        }
        Integer[] order = byScore(scores, true);
        long tp = 0;
        long seen = 0;
        double ap = 0;
        double prevRecall = 0;
        for (int i = 0; i < n; ) {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
                j++;
            }
            for (int t = i; t <= j; t++) {
                if (anomalous[order[t]]) {
                    tp++;
                }
            }
            seen += j - i + 1;
            double recall = (double) tp / positives;
            ap += (recall - prevRecall) * ((double) tp / seen);
            prevRecall = recall;
            i = j + 1;
        }
        return ap;
    }

    private static Integer[] byScore(double[] scores, boolean descending) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Comparator<Integer> c = Comparator.comparingDouble(i -> scores[i]);
        Arrays.sort(order, descending ? c.reversed() : c);
        return order;
    }

    private static void check(double[] scores, boolean[] anomalous) {
        if (scores.length != anomalous.length) {
            throw new IllegalArgumentException(scores.length + " scores but " + anomalous.length + " labels");
        }
        for (double s : scores) {
            if (Double.isNaN(s)) {
                throw new IllegalArgumentException("a score is NaN");
            }
        }
    }
}
