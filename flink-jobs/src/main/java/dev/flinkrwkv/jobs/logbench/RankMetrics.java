package dev.flinkrwkv.jobs.logbench;

import java.util.Arrays;
import java.util.Comparator;

/** Threshold-free quality of anomaly scores against labels (higher score = more anomalous). */
public final class RankMetrics {
    private RankMetrics() {}

    /**
     * Area under the ROC curve: the probability that a random anomaly scores above a random normal line,
     * ties counting one half (Mann-Whitney U with mid-ranks).
     */
    public static double auroc(double[] score, boolean[] anomaly) {
        Integer[] order = order(score);
        double[] rank = new double[score.length];
        for (int i = 0; i < order.length; ) {
            int j = i;
            while (j + 1 < order.length && score[order[j + 1]] == score[order[i]]) {
                j++;
            }
            double mid = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) {
                rank[order[k]] = mid;
            }
            i = j + 1;
        }
        long pos = 0, neg = 0;
        double rankSum = 0;
        for (int i = 0; i < score.length; i++) {
            if (anomaly[i]) {
                pos++;
                rankSum += rank[i];
            } else {
                neg++;
            }
        }
        if (pos == 0 || neg == 0) {
            return Double.NaN;
        }
        return (rankSum - pos * (pos + 1) / 2.0) / ((double) pos * neg);
    }

    /**
     * Average precision: the mean, over the anomalies, of the precision among lines scored at least as high
     * (a group of tied scores counts as one threshold).
     */
    public static double averagePrecision(double[] score, boolean[] anomaly) {
        Integer[] order = order(score);
        long positives = 0;
        for (boolean a : anomaly) {
            if (a) {
                positives++;
            }
        }
        if (positives == 0) {
            return Double.NaN;
        }
        double ap = 0;
        long seen = 0, hits = 0;
        for (int i = order.length - 1; i >= 0; ) {
            int j = i;
            while (j - 1 >= 0 && score[order[j - 1]] == score[order[i]]) {
                j--;
            }
            long groupHits = 0;
            for (int k = j; k <= i; k++) {
                if (anomaly[order[k]]) {
                    groupHits++;
                }
            }
            seen += i - j + 1;
            hits += groupHits;
            ap += groupHits * (double) hits / seen;
            i = j - 1;
        }
        return ap / positives;
    }

    /** Indices sorted by ascending score. */
    private static Integer[] order(double[] score) {
        Integer[] idx = new Integer[score.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, Comparator.comparingDouble(i -> score[i]));
        return idx;
    }
}
