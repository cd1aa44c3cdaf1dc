package dev.flinkrwkv.jobs.runtime;

import dev.flinkrwkv.jobs.format.ParsedRecord;
import dev.flinkrwkv.jobs.format.RawRecord;
import dev.flinkrwkv.jobs.format.RecordParser;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ParseFunctionTest {
    @Test
    void goodRecordsFlowOnAndBadOnesGoToTheSideOutputWithoutStoppingTheStream() throws Exception {
        ParseFunction fn = new ParseFunction(RecordParser.json("msg").keyByField("host").maxBytes(64));
        try (OneInputStreamOperatorTestHarness<RawRecord, ParsedRecord> h = ProcessFunctionTestHarnesses.forProcessFunction(fn)) {
            String[] inputs = {
                    "{\"host\":\"a\",\"msg\":\"one\"}",
                    "{\"host\":\"a\",",                       // invalid JSON
                    "",                                        // empty
                    "{\"msg\":\"no host\"}",                   // missing key field
                    "{\"host\":\"b\",\"msg\":\"" + "x".repeat(80) + "\"}", // too long
                    "{\"host\":\"b\",\"msg\":\"two\"}",
            };
            for (int i = 0; i < inputs.length; i++) {
                h.processElement(new RawRecord("in", 0, i, inputs[i].getBytes(StandardCharsets.UTF_8)), i);
            }
            h.processElement(new RawRecord("in", 0, 6, new byte[] {'{', (byte) 0xFE, '}'}), 6); // invalid UTF-8

            List<ParsedRecord> out = h.extractOutputValues();
            assertEquals(List.of("one", "two"), out.stream().map(r -> r.text).toList());
            assertEquals(List.of(0L, 5L), out.stream().map(r -> r.offset).toList());
            List<String> reasons = h.getSideOutput(ParseFunction.DEAD_LETTERS).stream()
                    .map(StreamRecord::getValue).map(d -> d.offset + ":" + d.reason).toList();
            assertEquals(List.of("1:INVALID_JSON", "2:EMPTY", "3:MISSING_FIELD", "4:TOO_LONG", "6:INVALID_UTF8"), reasons);
        }
    }

    /**
     * The job's totals continue from a checkpoint after a recovery, so that records replayed after it are not
     * counted twice, and a rescaled restore keeps their sum.
     */
    @Test
    void theCountsOfRecordsInAndDeadLettersAreExactAcrossARecoveryAndARescale() throws Exception {
        OperatorSubtaskState[] snapshots = new OperatorSubtaskState[2];
        for (int subtask = 0; subtask < 2; subtask++) {
            try (var h = harness(new ParseFunction(RecordParser.lines()), 2, subtask)) {
                h.initializeEmptyState();
                h.open();
                feed(h, 0, "a", "", "b");                // 3 in, 1 dead letter: in the checkpoint
                snapshots[subtask] = h.snapshot(1, 1);
                feed(h, 3, "c", "");                     // after the checkpoint: replayed after the failure
            }
        }
        ParseFunction fn = new ParseFunction(RecordParser.lines());
        try (var h = harness(fn, 2, 0)) {                 // subtask 0 recovers from its own checkpoint
            h.initializeState(snapshots[0]);
            h.open();
            feed(h, 3, "c", "", "d");
            assertEquals(6L, count(fn, JobCount.RECORDS_IN));
            assertEquals(2L, count(fn, JobCount.DEAD_LETTERS));
        }
        OperatorSubtaskState both = AbstractStreamOperatorTestHarness.repartitionOperatorState(
                AbstractStreamOperatorTestHarness.repackageState(snapshots), 128, 2, 1, 0);
        ParseFunction one = new ParseFunction(RecordParser.lines());
        try (var h = harness(one, 1, 0)) {                // both subtasks' state restored into one
            h.initializeState(both);
            h.open();
            assertEquals(6L, count(one, JobCount.RECORDS_IN));
            assertEquals(2L, count(one, JobCount.DEAD_LETTERS));
        }
    }

    private static OneInputStreamOperatorTestHarness<RawRecord, ParsedRecord> harness(ParseFunction fn, int parallelism, int subtask)
            throws Exception {
        return new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(fn), 128, parallelism, subtask);
    }

    private static void feed(OneInputStreamOperatorTestHarness<RawRecord, ParsedRecord> h, int offset, String... lines) throws Exception {
        for (String line : lines) {
            h.processElement(new RawRecord("in", 0, offset, line.getBytes(StandardCharsets.UTF_8)), offset++);
        }
    }

    private static long count(ParseFunction fn, String name) {
        return (Long) fn.getRuntimeContext().getAccumulator(name).getLocalValue();
    }
}
