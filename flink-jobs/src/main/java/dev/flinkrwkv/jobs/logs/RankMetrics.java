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
 *
 * <p>{@link #aurocInterval} says how far AUROC could move on another sample of the same kind: a stratified
 * bootstrap (anomalies and normal lines resampled separately, so every replicate has both), percentile
 * interval. Two scorers whose intervals overlap widely are not told apart by this log.
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

    /**
     * The bootstrap percentile interval of AUROC at {@code level} (e.g. 0.95) from {@code replicates} resamples
     * drawn with {@code seed}: {@code {low, high}}, NaN where AUROC is.
     */
    public static double[] aurocInterval(double[] scores, boolean[] anomalous, double level, int replicates, long seed) {
        check(scores, anomalous);
        int n = scores.length;
        Integer[] order = byScore(scores, false);
        int[] pos = new int[n];
        int[] neg = new int[n];
        int positives = 0;
        int negatives = 0;
        for (int r = 0; r < n; r++) {
            if (anomalous[order[r]]) {
                pos[positives++] = r;
            } else {
                neg[negatives++] = r;
            }
        }
        if (positives == 0 || negatives == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        // Tie groups over the ranks: group[r] is the first rank of r's group of equal scores.
        int[] group = new int[n];
        for (int r = 1; r < n; r++) {
            group[r] = scores[order[r]] == scores[order[r - 1]] ? group[r - 1] : r;
        }
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        double[] values = new double[replicates];
        double[] posWeight = new double[n];
        double[] negWeight = new double[n];
        for (int b = 0; b < replicates; b++) {
            Arrays.fill(posWeight, 0);
            Arrays.fill(negWeight, 0);
            for (int i = 0; i < positives; i++) {
                posWeight[pos[random.nextInt(positives)]]++;
            }
            for (int i = 0; i < negatives; i++) {
                negWeight[neg[random.nextInt(negatives)]]++;
            }
            // One pass up the ranks: each anomaly beats the normal lines below its group and ties half of its own.
            double below = 0;
            double wins = 0;
            for (int r = 0; r < n; ) {
                int end = r;
                double groupPos = 0;
                double groupNeg = 0;
                while (end < n && group[end] == group[r]) {
                    groupPos += posWeight[end];
                    groupNeg += negWeight[end];
                    end++;
                }
                wins += groupPos * (below + 0.5 * groupNeg);
                below += groupNeg;
                r = end;
            }
            values[b] = wins / ((double) positives * negatives);
        }
        Arrays.sort(values);
        double tail = (1 - level) / 2;
        return new double[] {values[(int) Math.floor(tail * (replicates - 1))],
                values[(int) Math.ceil((1 - tail) * (replicates - 1))]};
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
