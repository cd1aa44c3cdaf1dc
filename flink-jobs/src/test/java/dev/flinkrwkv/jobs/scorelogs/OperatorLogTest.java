package dev.flinkrwkv.jobs.scorelogs;

import dev.flinkrwkv.jobs.Shared;
import dev.flinkrwkv.jobs.runtime.JobRuns;
import dev.flinkrwkv.math.MatMulKernel;
import dev.flinkrwkv.operator.RwkvOperator;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Inside Flink the RWKV operator says which model, device and matrix kernel each subtask runs with through SLF4J, so
 * that on a cluster the line is in the TaskManager's log; the command's own output does not carry it.
 */
class OperatorLogTest {
    @Test
    @Timeout(180)
    void eachSubtaskLogsItsModelAndKernelToTheLogNotTheConsole(@TempDir Path dir) throws Exception {
        Path input = dir.resolve("in.log");
        Files.write(input, Files.readAllLines(Shared.bgl(), StandardCharsets.UTF_8).subList(0, 20), StandardCharsets.UTF_8);
        List<String> logged = new CopyOnWriteArrayList<>();
        AbstractAppender capture = new AbstractAppender("operator-log-capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                logged.add(event.getMessage().getFormattedMessage());
            }
        };
        capture.start();
        Logger logger = (Logger) LogManager.getLogger(RwkvOperator.class);
        Level level = logger.getLevel();
        Configurator.setLevel(RwkvOperator.class.getName(), Level.INFO);  // the tests' configuration may be quieter
        logger.addAppender(capture);
        JobRuns.Result r;
        try {
            r = JobRuns.main("score-logs", "--model", ScoreLogsJobTest.MODEL.toString(), "--input", input.toString(),
                    "--output-dir", dir.resolve("out").toString(), "--web-ui-port", "-1", "--parallelism", "2",
                    "--checkpoint-dir", dir.resolve("cp").toString(), "--checkpoint-interval-ms", "500");
        } finally {
            logger.removeAppender(capture);
            Configurator.setLevel(RwkvOperator.class.getName(), level);
        }
        assertEquals(0, r.exit(), r.err() + r.out());
        assertEquals(2, logged.size(), logged.toString());
        for (String line : logged) {
            assertTrue(line.contains(ScoreLogsJobTest.MODEL.getFileName().toString())
                    && line.endsWith("device cpu, matrix kernel " + MatMulKernel.get().name()), line);
        }
        assertFalse(r.out().contains("kernel") || r.err().contains("kernel"), r.out() + r.err());
    }
}
