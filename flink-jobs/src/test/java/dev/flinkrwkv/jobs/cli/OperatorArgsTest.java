package dev.flinkrwkv.jobs.cli;

import dev.flinkrwkv.jobs.runtime.JobRuns;
import dev.flinkrwkv.jobs.runtime.OperatorSettings;
import dev.flinkrwkv.operator.RwkvOperatorConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The operator options every job command takes: batching across keys and evaluator threads. */
class OperatorArgsTest {
    private static OperatorSettings parse(String... argv) {
        return OperatorArgs.parse(Args.parse(argv, 0));
    }

    @Test
    void defaultsWhenNoneAreGiven() {
        assertEquals(OperatorSettings.DEFAULTS, parse("--model", "m.bin"));
        assertEquals(new OperatorSettings(64, Duration.ofMillis(50), 1), OperatorSettings.DEFAULTS);
    }

    @Test
    void readsEachOption() {
        assertEquals(new OperatorSettings(16, Duration.ofMillis(5), 4),
                parse("--batch-size", "16", "--batch-delay-ms", "5", "--evaluator-threads", "4"));
        assertEquals(new OperatorSettings(1, Duration.ZERO, 2), parse("--batch-size=1", "--batch-delay-ms=0", "--evaluator-threads=2"));
        assertEquals(new OperatorSettings(64, Duration.ofMillis(50), 1, 32), parse("--max-batch-tokens", "32"));
    }

    @Test
    void aValueOutOfRangeIsAUsageErrorThatNamesTheOption() {
        assertEquals("--batch-size must be at least 1, got 0",
                assertThrows(UsageException.class, () -> parse("--batch-size", "0")).getMessage());
        assertEquals("--batch-delay-ms must not be negative, got -1",
                assertThrows(UsageException.class, () -> parse("--batch-delay-ms", "-1")).getMessage());
        assertEquals("--evaluator-threads must be at least 1, got 0",
                assertThrows(UsageException.class, () -> parse("--evaluator-threads", "0")).getMessage());
        assertEquals("--max-batch-tokens must be at least 1, got 0",
                assertThrows(UsageException.class, () -> parse("--max-batch-tokens", "0")).getMessage());
        assertTrue(assertThrows(UsageException.class, () -> parse("--evaluator-threads", "two")).getMessage()
                .contains("--evaluator-threads expects an integer"));
    }

    /** {@code generate} once spelled the batch size {@code --batch}; it must not fall back to 64 silently. */
    @Test
    void theOldSpellingBatchIsRefused() {
        JobRuns.Result r = JobRuns.main("generate", "--model", "m.bin", "--batch", "4");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("unknown option --batch; did you mean --batch-size?"), r.err());
    }

    @Test
    void aJobCommandStopsAtABadValueWithUsage() {
        JobRuns.Result r = JobRuns.main("score-logs", "--model", "m.bin", "--input", "in.log", "--output-dir", "out",
                "--evaluator-threads", "0");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--evaluator-threads must be at least 1, got 0"), r.err());
        assertTrue(r.err().contains("[--evaluator-threads 1]"), r.err());
    }

    @Test
    void theSettingsReachTheOperatorConfiguration() {
        RwkvOperatorConfig<String> c = parse("--batch-size", "16", "--batch-delay-ms", "5", "--evaluator-threads", "3")
                .applyTo(RwkvOperatorConfig.<String>builder()).model("m.bin").text(s -> s).build();
        assertEquals(16, c.maxBatchSize());
        assertEquals(Duration.ofMillis(5), c.maxBatchDelay());
        assertEquals(3, c.evaluatorThreads());
    }

    @Test
    void aMisspeltOptionIsRefusedWithTheOneMeant() {
        JobRuns.Result r = JobRuns.main("enrich", "--model", "m.bin", "--text-field", "msg", "--evaluator-thread", "2");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("unknown option --evaluator-thread; did you mean --evaluator-threads?"), r.err());
        r = JobRuns.main("score-logs", "--model", "m.bin", "--bach-size", "2");
        assertTrue(r.err().contains("unknown option --bach-size; did you mean --batch-size?"), r.err());
        r = JobRuns.main("info", "--model", "m.bin", "--colour");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().startsWith("flink-rwkv info: unknown option --colour\n"), r.err());
    }

    @Test
    void settingsConstructedInCodeAreCheckedToo() {
        assertThrows(IllegalArgumentException.class, () -> new OperatorSettings(0, Duration.ZERO, 1));
        assertThrows(IllegalArgumentException.class, () -> new OperatorSettings(1, Duration.ofMillis(-1), 1));
        assertThrows(IllegalArgumentException.class, () -> OperatorSettings.DEFAULTS.withEvaluatorThreads(0));
    }
}
