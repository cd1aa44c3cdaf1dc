package dev.flinkrwkv.jobs.runtime;

import dev.flinkrwkv.jobs.format.DeadLetter;
import dev.flinkrwkv.jobs.format.ParsedRecord;
import dev.flinkrwkv.jobs.format.RawRecord;
import dev.flinkrwkv.jobs.format.RecordParser;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The first step of every job: raw records in, {@link ParsedRecord}s out ({@link RecordParser} decides), and
 * each record that cannot be used to the {@link #DEAD_LETTERS} side output with its reason, so that one bad
 * record never stops the job. It lives here, beside the other counting step of {@link JobTopology}, rather
 * than in {@code format}, which knows records and not jobs. Needs no keying: its only state is the job's counts of records in and dead letters (the accumulators
 * {@link JobCount#RECORDS_IN} and {@link JobCount#DEAD_LETTERS}, exact across recoveries; also the live metrics
 * {@code parsedRecords} and {@code deadLetters}).
 */
public final class ParseFunction extends ProcessFunction<RawRecord, ParsedRecord> implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    /** Where the rejected records go: {@code stream.getSideOutput(ParseFunction.DEAD_LETTERS)}. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

    private final RecordParser parser;
    private transient Counter parsed;
    private transient Counter dead;
    private transient JobCount recordsIn;
    private transient JobCount deadLetters;

    public ParseFunction(RecordParser parser) {
        this.parser = parser;
    }

    @Override
    public void initializeState(FunctionInitializationContext ctx) throws Exception {
        recordsIn = JobCount.restore(JobCount.RECORDS_IN, ctx, getRuntimeContext());
        deadLetters = JobCount.restore(JobCount.DEAD_LETTERS, ctx, getRuntimeContext());
    }

    @Override
    public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
        recordsIn.snapshot();
        deadLetters.snapshot();
    }

    @Override
    public void open(OpenContext openContext) {
        parsed = getRuntimeContext().getMetricGroup().counter("parsedRecords");
        dead = getRuntimeContext().getMetricGroup().counter("deadLetters");
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<ParsedRecord> out) {
        RecordParser.ParseResult r = parser.parse(raw);
        recordsIn.add(1);
        if (r.isOk()) {
            parsed.inc();
            out.collect(r.record());
        } else {
            dead.inc();
            deadLetters.add(1);
            ctx.output(DEAD_LETTERS, r.deadLetter());
        }
    }
}
