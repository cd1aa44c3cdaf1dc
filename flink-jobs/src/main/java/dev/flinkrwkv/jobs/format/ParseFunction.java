package dev.flinkrwkv.jobs.format;

import dev.flinkrwkv.jobs.runtime.JobProgress;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The first step of every job: raw records in, {@link ParsedRecord}s out, and each record that cannot be
 * used to the {@link #DEAD_LETTERS} side output with its reason, so that one bad record never stops the
 * job. Stateless, so it needs no keying and recovers trivially. Counts both in the metrics
 * {@code parsedRecords} and {@code deadLetters}.
 */
public final class ParseFunction extends ProcessFunction<RawRecord, ParsedRecord> {
    private static final long serialVersionUID = 1L;

    /** Where the rejected records go: {@code stream.getSideOutput(ParseFunction.DEAD_LETTERS)}. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

    private final RecordParser parser;
    private transient Counter parsed;
    private transient Counter dead;

    public ParseFunction(RecordParser parser) {
        this.parser = parser;
    }

    @Override
    public void open(OpenContext openContext) {
        parsed = getRuntimeContext().getMetricGroup().counter("parsedRecords");
        dead = getRuntimeContext().getMetricGroup().counter("deadLetters");
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<ParsedRecord> out) {
        RecordParser.ParseResult r = parser.parse(raw);
        JobProgress.RECORDS_IN.increment();
        if (r.isOk()) {
            parsed.inc();
            out.collect(r.record());
        } else {
            dead.inc();
            JobProgress.DEAD_LETTERS.increment();
            ctx.output(DEAD_LETTERS, r.deadLetter());
        }
    }
}
