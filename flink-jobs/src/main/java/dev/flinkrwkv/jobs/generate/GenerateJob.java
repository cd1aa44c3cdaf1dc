package dev.flinkrwkv.jobs.generate;

import dev.flinkrwkv.jobs.format.ParsedRecord;
import dev.flinkrwkv.jobs.runtime.JobProgress;
import dev.flinkrwkv.jobs.runtime.OperatorSettings;
import dev.flinkrwkv.jobs.runtime.Pipeline;
import dev.flinkrwkv.operator.GenerateOptions;
import dev.flinkrwkv.operator.RwkvOperatorConfig;
import dev.flinkrwkv.operator.RwkvResult;
import dev.flinkrwkv.operator.RwkvStreams;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.util.function.SerializableFunction;

import java.nio.charset.StandardCharsets;

/**
 * The generate job: each parsed record is a prompt (or the next turn) of its key's conversation, a
 * session. Records are keyed by their key, the keyed RWKV operator generates a continuation
 * ({@link RwkvStreams#generate}: the key's state holds the whole conversation, prompts and continuations,
 * and its random generator's state, so a replay after a failure generates the same tokens), and each result
 * becomes one {@link Generation} JSON line, keyed by the session so a session's outputs stay in order.
 *
 * <p>The model is byte-level (vocabulary 256): a prompt's UTF-8 bytes are its tokens and the generated
 * tokens are bytes of the output text. The output text leaves out the stop sequence that ended it (the
 * conversation's state still contains it).
 *
 * <p>Output records are (session key, JSON line) pairs.
 */
public final class GenerateJob implements Pipeline<Tuple2<String, String>> {
    private final String modelPath;
    private final GenerateOptions options;
    private final OperatorSettings operator;

    public GenerateJob(String modelPath, GenerateOptions options, OperatorSettings operator) {
        this.modelPath = modelPath;
        this.options = options;
        this.operator = operator;
    }

    @Override
    public DataStream<Tuple2<String, String>> build(DataStream<ParsedRecord> parsed) {
        RwkvOperatorConfig<ParsedRecord> config = operator.applyTo(RwkvOperatorConfig.<ParsedRecord>builder())
                .model(modelPath)
                .text(r -> r.text)
                .tag(GenerateJob::origin)
                .generate(options)
                .build();
        return RwkvStreams.generate(parsed.keyBy(r -> r.key), config).uid("rwkv-generate")
                .map(new ToJson(options)).returns(Types.TUPLE(Types.STRING, Types.STRING))
                .name("generation-json").uid("generation-json");
    }

    /** Where a record came from, carried through the operator as its tag: {@code partition/offset/source}. */
    static String origin(ParsedRecord r) {
        return r.partition + "/" + r.offset + "/" + r.source;
    }

    @Override
    public SerializableFunction<Tuple2<String, String>, byte[]> outputKey() {
        return t -> t.f0.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public SerializableFunction<Tuple2<String, String>, byte[]> outputValue() {
        return t -> t.f1.getBytes(StandardCharsets.UTF_8);
    }

    /** An operator result as the job's output line. */
    static final class ToJson implements MapFunction<RwkvResult, Tuple2<String, String>> {
        private final GenerateOptions options;

        ToJson(GenerateOptions options) {
            this.options = options;
        }

        @Override
        public Tuple2<String, String> map(RwkvResult r) {
            String[] at = r.getTag().split("/", 3);
            int[] g = r.getGenerated();
            JobProgress.TOKENS.add(r.getTokens() + g.length); // for the progress line's tokens/s
            Generation.Stop stop = RwkvResult.STOP_SEQUENCE.equals(r.getStop())
                    ? Generation.Stop.STOP_SEQUENCE : Generation.Stop.MAX_TOKENS;
            int shown = g.length - (stop == Generation.Stop.STOP_SEQUENCE ? options.stopLength(g, g.length) : 0);
            byte[] text = new byte[shown];
            for (int i = 0; i < shown; i++) {
                text[i] = (byte) g[i];
            }
            return Tuple2.of(r.getKey(), Generation.toJson(r.getKey(), at[2], Integer.parseInt(at[0]),
                    Long.parseLong(at[1]), r.getTokens(), text, g.length, stop));
        }
    }
}
