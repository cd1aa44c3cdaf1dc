package dev.flinkrwkv.jobs.format;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
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
}
