package dev.flinkrwkv.jobs.runtime;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.JobArgs;
import dev.flinkrwkv.jobs.cli.UsageException;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which restart strategy the job's configuration carries, on the embedded cluster and on a real one. */
class RestartStrategyTest {
    @Test
    void theEmbeddedClusterRestartsWithExponentialBackoffThatNeverRunsOut(@TempDir Path tmp) {
        ReadableConfig conf = JobEnvironment.embedded(JobSettings.defaults(tmp).withWebUiPort(-1)).env().getConfiguration();
        assertEquals("exponential-delay", conf.get(RestartStrategyOptions.RESTART_STRATEGY));
        assertEquals(Integer.MAX_VALUE, conf.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS));
        assertEquals(Duration.ofSeconds(1), conf.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF));
        assertEquals(Duration.ofSeconds(30), conf.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF));
    }

    @Test
    void onAClusterTheJobLeavesTheRestartStrategyToTheClusterUnlessOneIsGiven(@TempDir Path tmp) {
        JobSettings s = JobSettings.defaults(tmp);
        Configuration conf = JobEnvironment.common(s, false);
        for (String key : conf.keySet()) {
            assertTrue(!key.startsWith("restart-strategy"), "the job sets " + key + ", overriding the cluster's");
        }
        assertTrue(JobEnvironment.submitted(s).env().getConfiguration().getOptional(RestartStrategyOptions.RESTART_STRATEGY).isEmpty());
        assertTrue(JobEnvironment.submitted(s).description().contains("restarts as the cluster configures"));

        Configuration given = JobEnvironment.common(s.withRestarts(RestartStrategy.fixedDelay(5, Duration.ofSeconds(2))), false);
        assertEquals("fixed-delay", given.get(RestartStrategyOptions.RESTART_STRATEGY));
        assertEquals(5, given.get(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS));
        assertEquals(Duration.ofSeconds(2), given.get(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY));
        assertEquals("none", JobEnvironment.common(s.withRestarts(RestartStrategy.NONE), true).get(RestartStrategyOptions.RESTART_STRATEGY));
    }

    @Test
    void theOptionTakesEachDocumentedForm() {
        assertEquals(RestartStrategy.CLUSTER, RestartStrategy.parse("cluster"));
        assertEquals(RestartStrategy.NONE, RestartStrategy.parse("none"));
        assertEquals(RestartStrategy.fixedDelay(10, Duration.ofMillis(1500)), RestartStrategy.parse("fixed-delay:10:1500"));
        assertEquals(RestartStrategy.EMBEDDED_DEFAULT, RestartStrategy.parse("exponential-delay"));
        assertEquals(RestartStrategy.exponentialDelay(Duration.ofMillis(200), Duration.ofSeconds(60)),
                RestartStrategy.parse("exponential-delay:200:60000"));
        for (String bad : new String[] {"fixed-delay", "fixed-delay:x:1", "exponential-delay:1", "always"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RestartStrategy.parse(bad), bad);
            assertEquals("--restart-strategy " + bad + " is not one of " + RestartStrategy.USAGE, e.getMessage());
        }
        assertEquals("--restart-strategy fixed-delay:-1:10: fixed-delay needs attempts >= 0 and a delay >= 0, got -1 and 10 ms",
                assertThrows(IllegalArgumentException.class, () -> RestartStrategy.parse("fixed-delay:-1:10")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RestartStrategy.parse("exponential-delay:500:100"))
                .getMessage().contains("needs 0 < initial backoff <= max backoff"));
    }

    @Test
    void theJobCommandsPassTheOptionOnAndReportABadOneInOneLine() {
        String[] base = {"--input", "in.txt", "--output-dir", "out"};
        assertEquals(null, JobArgs.parse("j", Args.parse(base, 0)).settings().restarts());
        String[] given = java.util.Arrays.copyOf(base, base.length + 2);
        given[base.length] = "--restart-strategy";
        given[base.length + 1] = "fixed-delay:3:100";
        assertEquals(RestartStrategy.fixedDelay(3, Duration.ofMillis(100)), JobArgs.parse("j", Args.parse(given, 0)).settings().restarts());
        given[base.length + 1] = "sometimes";
        UsageException e = assertThrows(UsageException.class, () -> JobArgs.parse("j", Args.parse(given, 0)));
        assertTrue(e.getMessage().startsWith("--restart-strategy sometimes is not one of"), e.getMessage());
    }
}
