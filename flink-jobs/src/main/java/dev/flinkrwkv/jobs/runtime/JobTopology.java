package dev.flinkrwkv.jobs.runtime;

import dev.flinkrwkv.jobs.format.DeadLetter;
import dev.flinkrwkv.jobs.format.ParsedRecord;
import dev.flinkrwkv.jobs.format.RawRecord;
import dev.flinkrwkv.jobs.format.RecordParser;
import dev.flinkrwkv.jobs.io.Input;
import dev.flinkrwkv.jobs.io.Output;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.util.List;

/**
 * A job's Flink graph and nothing else: source &rarr; {@link ParseFunction} (dead letters to their own
 * exactly-once output) &rarr; the job's {@link Pipeline} &rarr; the count of records out &rarr; exactly-once
 * output. The graph is the same on the embedded cluster and on a real one; starting a broker, feeding a
 * file, submitting the job and waiting for it are {@link JobLauncher}'s.
 *
 * <p>The operators' uids ({@code parse}, {@code count-out}, the sinks') are part of the savepoint format: a
 * job restored from a savepoint finds its state under them.
 */
public final class JobTopology {
    private final Input input;
    private final RecordParser parser;
    private final Output output;
    private final Output deadLetters;

    public JobTopology(Input input, RecordParser parser, Output output, Output deadLetters) {
        this.input = input;
        this.parser = parser;
        this.output = output;
        this.deadLetters = deadLetters;
    }

    /** The topology the options describe, with their topics on the broker at {@code bootstrapServers} (null: no topic). */
    public static JobTopology of(JobOptions o, String bootstrapServers) {
        Input input = o.inputTopic() != null
                ? Input.kafka(bootstrapServers, o.inputTopic(), o.groupId(), o.bounded())
                : Input.file(o.inputFile(), o.parser().maxBytes());
        Output output = o.outputTopic() != null
                ? Output.kafka(bootstrapServers, o.outputTopic(), o.transactionalIdPrefix())
                : Output.files(o.outputDir());
        Output deadLetters = o.deadLetterTopic() != null
                ? Output.kafka(bootstrapServers, o.deadLetterTopic(), o.transactionalIdPrefix())
                : Output.files(o.deadLetterDir());
        return new JobTopology(input, o.parser(), output, deadLetters);
    }

    /** One line each for where the records come from, where they go and where the dead letters go. */
    public List<String> describe() {
        return List.of("input: " + input.describe(), "output: " + output.describe(), "dead letters: " + deadLetters.describe());
    }

    /** Adds the graph, with {@code pipeline} as the job's own steps, to {@code env}. */
    public <T> void addTo(StreamExecutionEnvironment env, Pipeline<T> pipeline) {
        DataStream<RawRecord> raw = input.open(env);
        SingleOutputStreamOperator<ParsedRecord> parsed = raw.process(new ParseFunction(parser)).name("parse").uid("parse");
        DataStream<T> results = pipeline.build(parsed);
        DataStream<T> counted = results.map(new CountOut<T>()).returns(results.getType()).name("count-out").uid("count-out");
        output.write(counted, pipeline.outputKey(), pipeline.outputValue(), "output");
        deadLetters.write(parsed.getSideOutput(ParseFunction.DEAD_LETTERS), null, DeadLetter::toJsonBytes, "dead-letters");
    }

    /** Counts output records: the job's total {@link JobCount#RECORDS_OUT}. */
    private static final class CountOut<T> extends RichMapFunction<T, T> implements CheckpointedFunction {
        private transient JobCount recordsOut;

        @Override
        public void initializeState(FunctionInitializationContext ctx) throws Exception {
            recordsOut = JobCount.restore(JobCount.RECORDS_OUT, ctx, getRuntimeContext());
        }

        @Override
        public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
            recordsOut.snapshot();
        }

        @Override
        public T map(T value) {
            recordsOut.add(1);
            return value;
        }
    }
}
