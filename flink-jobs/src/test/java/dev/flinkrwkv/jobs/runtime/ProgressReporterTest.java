package dev.flinkrwkv.jobs.runtime;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The progress line shows the job's accumulators as its client reports them, wherever the job runs. */
class ProgressReporterTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void theLineShowsTheJobsAccumulatorsAndTheTokenRateBetweenTwoLines() {
        Deque<CompletableFuture<Map<String, Object>>> answers = new ArrayDeque<>();
        answers.add(CompletableFuture.completedFuture(Map.of()));  // nothing counted yet
        answers.add(CompletableFuture.completedFuture(Map.of(JobCount.RECORDS_IN, 1200L, JobCount.DEAD_LETTERS, 3L,
                JobCount.RECORDS_OUT, 1100L, JobCount.TOKENS, 5000L)));
        answers.add(CompletableFuture.failedFuture(new IllegalStateException("job is restarting")));
        answers.add(CompletableFuture.completedFuture(Map.of(JobCount.RECORDS_IN, 1300L, JobCount.TOKENS, 200L)));
        try (ProgressReporter r = new ProgressReporter(new PrintStream(new ByteArrayOutputStream()), 1000, answers::poll,
                null, null, null)) {
            assertEquals("progress: 0 records in, 0 dead letters, 0 out", r.line(0));
            assertEquals("progress: 1,200 records in, 3 dead letters, 1,100 out, 2,500 tokens/s", r.line(2 * SECOND));
            assertEquals("progress: counts not available now", r.line(3 * SECOND));
            // a recovered job's token count starts again from zero: no rate for that interval
            assertEquals("progress: 1,300 records in, 0 dead letters, 0 out", r.line(4 * SECOND));
        }
    }
}
