package dev.flinkrwkv.jobs.logs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AnomalyDetectorTest {
    private static LineSurprisal line(double meanBits) {
        return new LineSurprisal(10, meanBits, meanBits * 2, 3);
    }

    @Test
    void noScoreDuringWarmUpThenStandardizedAgainstThePreviousLines() {
        AnomalyDetector d = new AnomalyDetector(0.01, 4, 3.0, 0.05);
        Baseline b = new Baseline();
        double[] normal = {2, 4, 2, 4};
        for (int i = 0; i < normal.length; i++) {
            LineScore s = d.score("k", "t", 0, i, line(normal[i]), b);
            assertEquals(0, s.score);
            assertFalse(s.flagged);
            assertEquals(i, s.baselineLines);
        }
        // Baseline now: mean 3, std 1.
        LineScore usual = d.score("k", "t", 0, 4, line(4), b);
        assertEquals(1.0, usual.score, 1e-12);
        assertEquals(3.0, usual.baselineMean, 1e-12);
        assertEquals(1.0, usual.baselineStd, 1e-12);
        assertFalse(usual.flagged);
        assertEquals(5, b.count); // every line updates the baseline

        Baseline before = new Baseline(b.count, b.mean, b.variance);
        LineScore odd = d.score("k", "t", 0, 5, line(9), b);
        assertEquals((9 - before.mean) / Math.sqrt(before.variance), odd.score, 1e-12);
        assertTrue(odd.flagged);
        // Low surprisal is never anomalous.
        assertFalse(d.score("k", "t", 0, 6, line(-50), b).flagged);
    }

    @Test
    void aRegularHistoryIsFlooredByTheMinimumStd() {
        AnomalyDetector d = new AnomalyDetector(0.1, 2, 3.0, 0.5);
        Baseline b = new Baseline();
        d.score("k", "t", 0, 0, line(1), b);
        d.score("k", "t", 0, 1, line(1), b);
        LineScore s = d.score("k", "t", 0, 2, line(2), b);
        assertEquals(2.0, s.score, 1e-12); // (2 - 1) / 0.5, not infinite
        assertFalse(s.flagged);
    }

    @Test
    void rejectsNonsenseSettings() {
        assertThrows(IllegalArgumentException.class, () -> new AnomalyDetector(0, 1, 3, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new AnomalyDetector(1.5, 1, 3, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new AnomalyDetector(0.1, -1, 3, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new AnomalyDetector(0.1, 1, 3, 0));
    }

    @Test
    void jsonHasTheDocumentedFields() throws Exception {
        LineScore s = new LineScore("host-1", "logs", 3, 77, 12, 1.5, 9.25, 4, 1.2, 0.1, 30, 3.0000004, true);
        JsonNode j = new ObjectMapper().readTree(s.toJson());
        assertEquals("host-1", j.get("key").asText());
        assertEquals("logs", j.get("source").asText());
        assertEquals(3, j.get("partition").asInt());
        assertEquals(77, j.get("offset").asLong());
        assertEquals(12, j.get("tokens").asInt());
        assertEquals(1.5, j.get("mean_bits").asDouble());
        assertEquals(9.25, j.get("max_bits").asDouble());
        assertEquals(4, j.get("max_position").asInt());
        assertEquals(1.2, j.get("baseline_mean").asDouble());
        assertEquals(0.1, j.get("baseline_std").asDouble());
        assertEquals(30, j.get("baseline_lines").asLong());
        assertEquals(3.0, j.get("score").asDouble());
        assertTrue(j.get("flagged").asBoolean());
        // No per-token detail: no max fields.
        JsonNode noMax = new ObjectMapper().readTree(
                new LineScore("k", "f", -1, 1, 5, 2, Double.NaN, -1, 0, 0, 0, 0, false).toJson());
        assertFalse(noMax.has("max_bits"));
        assertFalse(noMax.has("max_position"));
    }
}
