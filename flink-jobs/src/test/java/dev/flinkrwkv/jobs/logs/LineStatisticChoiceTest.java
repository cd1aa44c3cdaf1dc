package dev.flinkrwkv.jobs.logs;

import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LineStatisticChoiceTest {
    // ten lines, the first two anomalous
    private static final boolean[] LABELS = {true, true, false, false, false, false, false, false, false, false};

    @Test
    void theStatisticWithTheBestAurocIsChosenAndEqualAurocsGoToTheBetterAveragePrecision() {
        Map<LineStatistic, double[]> values = new EnumMap<>(LineStatistic.class);
        // anomalies ranked 2nd and 3rd: AUROC 14/16, AP (1/2 + 2/3) / 2
        values.put(LineStatistic.MEAN, new double[] {50, 40, 100, 8, 7, 6, 5, 4, 3, 2});
        // ranked 2nd and 4th: AUROC 13/16, AP (1/2 + 2/4) / 2
        values.put(LineStatistic.MAX, new double[] {50, 9, 100, 10, 7, 3, 2, 1, 0.5, 0.25});
        // ranked 1st and 5th: AUROC 13/16 as well, AP (1 + 2/5) / 2
        values.put(LineStatistic.BODY_MAX, new double[] {50, 4, 9, 8, 7, 3, 2, 1, 0.5, 0.25});
        LineStatisticChoice.Choice c = LineStatisticChoice.choose(values, LABELS);
        assertEquals(LineStatistic.MEAN, c.chosen());
        LineStatisticChoice.Candidate mean = c.candidates().get(0);   // in the map's order
        LineStatisticChoice.Candidate max = c.candidates().get(1);
        assertEquals(14.0 / 16, mean.auroc(), 1e-12);
        assertEquals((1.0 / 2 + 2.0 / 3) / 2, mean.averagePrecision(), 1e-12);
        assertEquals(13.0 / 16, max.auroc(), 1e-12);
        assertEquals(0.5, max.averagePrecision(), 1e-12);
        assertTrue(c.figures().contains("max AUROC 0.81"), c.figures());

        values.remove(LineStatistic.MEAN);
        assertEquals(LineStatistic.BODY_MAX, LineStatisticChoice.choose(values, LABELS).chosen());
    }

    @Test
    void equalFiguresGoToTheStatisticTriedFirst() {
        // max and body-max are often the same number: the line's most surprising token lies in its message
        double[] same = {9, 8, 7, 1, 2, 3, 4, 5, 6, 0};
        Map<LineStatistic, double[]> values = new EnumMap<>(LineStatistic.class);
        values.put(LineStatistic.BODY_MAX, same.clone());
        values.put(LineStatistic.MAX, same.clone());
        values.put(LineStatistic.MEAN, new double[] {1, 9, 8, 7, 6, 5, 4, 3, 2, 0});
        assertEquals(LineStatistic.MAX, LineStatisticChoice.choose(values, LABELS).chosen());
    }

    @Test
    void itNeedsAnomaliesAndNormalLines() {
        Map<LineStatistic, double[]> values = new EnumMap<>(LineStatistic.class);
        values.put(LineStatistic.MEAN, new double[] {1, 2});
        assertThrows(IllegalArgumentException.class, () -> LineStatisticChoice.choose(values, new boolean[] {false, false}));
        assertThrows(IllegalArgumentException.class, () -> LineStatisticChoice.choose(new EnumMap<>(LineStatistic.class), LABELS));
    }
}
