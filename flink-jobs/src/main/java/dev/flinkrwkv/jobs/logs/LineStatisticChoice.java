package dev.flinkrwkv.jobs.logs;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which {@link LineStatistic} eval-logs' {@code rwkv} row ranks by, chosen on the labelled lines before the
 * evaluated part (never on the evaluated lines): the one with the highest AUROC there, ties going to the higher
 * average precision, then to the earlier statistic.
 *
 * <p>The lines' scores matter more than the rule: a model's scores of the normal lines it was fitted to say
 * little, since it has learnt them (every sensible statistic then has AUROC 0.99 or more there, apart in the
 * third decimal: noise). eval-logs therefore scores each line with the models of a cross-fitted ensemble that
 * never saw it, where there is one ({@code fit --leave-out}, {@link LeaveOut}).
 */
public final class LineStatisticChoice {
    private LineStatisticChoice() {}

    /** One statistic's figures on the lines it is chosen on. */
    public record Candidate(LineStatistic statistic, double averagePrecision, double auroc) {}

    /** The statistic chosen, and every candidate's figures (in the order given). */
    public record Choice(LineStatistic chosen, List<Candidate> candidates) {
        /** The candidates' figures, for the log line that says why: {@code " mean AUROC 0.976 AP 0.669, ..."}. */
        public String figures() {
            StringBuilder s = new StringBuilder();
            for (Candidate c : candidates) {
                s.append(s.length() == 0 ? " " : ", ").append(String.format(Locale.ROOT, "%s AUROC %.3f AP %.3f",
                        c.statistic().label(), c.auroc(), c.averagePrecision()));
            }
            return s.toString();
        }
    }

    /**
     * @param values each statistic's value on each line it is chosen on (higher: more anomalous), in the order
     *     the statistics are tried
     * @param anomalous the lines' labels; needs at least one anomaly and one normal line
     */
    public static Choice choose(Map<LineStatistic, double[]> values, boolean[] anomalous) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no statistic to choose from");
        }
        List<Candidate> candidates = new ArrayList<>();
        Candidate best = null;
        for (var e : values.entrySet()) {
            Candidate c = new Candidate(e.getKey(), RankMetrics.averagePrecision(e.getValue(), anomalous),
                    RankMetrics.auroc(e.getValue(), anomalous));
            if (Double.isNaN(c.averagePrecision()) || Double.isNaN(c.auroc())) {
                throw new IllegalArgumentException("choosing a statistic needs anomalies and normal lines among the lines");
            }
            candidates.add(c);
            if (best == null || c.auroc() > best.auroc()
                    || c.auroc() == best.auroc() && c.averagePrecision() > best.averagePrecision()) {
                best = c;
            }
        }
        return new Choice(best.statistic(), candidates);
    }
}
