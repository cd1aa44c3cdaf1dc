package dev.flinkrwkv.jobs.generate;

import dev.flinkrwkv.jobs.format.ParsedRecord;
import dev.flinkrwkv.jobs.runtime.JobCount;
import dev.flinkrwkv.jobs.runtime.OperatorSettings;
import dev.flinkrwkv.jobs.runtime.Pipeline;
import dev.flinkrwkv.operator.GenerateOptions;
import dev.flinkrwkv.operator.RwkvOperatorConfig;
import dev.flinkrwkv.operator.RwkvResult;
import dev.flinkrwkv.operator.RwkvStreams;

import dev.flinkrwkv.tokenize.ByteTokenizer;
import dev.flinkrwkv.tokenize.StreamingDecoder;
import dev.flinkrwkv.tokenize.Tokenizer;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.util.function.SerializableFunction;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The generate job: each parsed record is a prompt (or the next turn) of its key's conversation, a
 * session. Records are keyed by their key, the keyed RWKV operator generates a continuation
 * ({@link RwkvStreams#generate}: the key's state holds the whole conversation, prompts and continuations,
 * and its random generator's state, so a replay after a failure generates the same tokens), and each result
 * becomes one {@link Generation} JSON line, keyed by the session so a session's outputs stay in order.
 *
 * <p>Prompts are tokenized by the job's tokenizer (the model's by default) after the {@link PromptTemplate}, and
 * the generated tokens are decoded with a {@link StreamingDecoder}: the output text never holds a broken UTF-8
 * character. It leaves out the stop text that ended it (the conversation's state still contains it), and, when
 * the token limit cuts a character short, that character's first bytes (at most 3): the next record of the
 * session starts with a new prompt, so the character can never be completed.
 *
 * <p>Output records are (session key, JSON line) pairs.
 */
public final class GenerateJob implements Pipeline<Tuple2<String, String>> {
    private final String modelPath;
    private final Tokenizer tokenizer;
    private final PromptTemplate template;
    private final GenerateOptions options;
    private final OperatorSettings operator;

    public GenerateJob(String modelPath, Tokenizer tokenizer, PromptTemplate template, GenerateOptions options,
                       OperatorSettings operator) {
        this.modelPath = modelPath;
        this.tokenizer = tokenizer;
        this.template = template;
        this.options = options;
        this.operator = operator;
    }

    /** A byte-level model's job without a template. */
    public GenerateJob(String modelPath, GenerateOptions options, OperatorSettings operator) {
        this(modelPath, new ByteTokenizer(), PromptTemplate.NONE, options, operator);
    }

    @Override
    public DataStream<Tuple2<String, String>> build(DataStream<ParsedRecord> parsed) {
        PromptTemplate template = this.template; // captured by the serializable text function, not the job
        RwkvOperatorConfig<ParsedRecord> config = operator.applyTo(RwkvOperatorConfig.<ParsedRecord>builder())
                .model(modelPath)
                .text(r -> template.apply(r.text))
                .tokenizer(tokenizer)
                .tag(GenerateJob::origin)
                .generate(options)
                .build();
        return RwkvStreams.generate(parsed.keyBy(r -> r.key), config).uid("rwkv-generate")
                .map(new ToJson(options, tokenizer)).returns(Types.TUPLE(Types.STRING, Types.STRING))
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
    static final class ToJson extends RichMapFunction<RwkvResult, Tuple2<String, String>> {
        private static final Tokenizer BYTES = new ByteTokenizer();
        private final GenerateOptions options;
        private final Tokenizer tokenizer;
        private transient LongCounter tokens;  // prompt and generated tokens, for the progress line's rate

        ToJson(GenerateOptions options, Tokenizer tokenizer) {
            this.options = options;
            this.tokenizer = tokenizer;
        }

        @Override
        public void open(OpenContext ctx) {
            tokens = JobCount.tokens(getRuntimeContext());
        }

        @Override
        public Tuple2<String, String> map(RwkvResult r) {
            String[] at = r.getTag().split("/", 3);
            int[] g = r.getGenerated();
            tokens.add(r.getTokens() + g.length);
            Generation.Stop stop = RwkvResult.STOP_SEQUENCE.equals(r.getStop())
                    ? Generation.Stop.STOP_SEQUENCE : Generation.Stop.MAX_TOKENS;
            int shown = g.length - (stop == Generation.Stop.STOP_SEQUENCE ? options.stopLength(g, g.length) : 0);
            byte[] bytes = tokenizer.decodeBytes(shown == g.length ? g : Arrays.copyOf(g, shown));
            int cut = options.stopTextAt(bytes);
            return Tuple2.of(r.getKey(), Generation.toJson(r.getKey(), at[2], Integer.parseInt(at[0]),
                    Long.parseLong(at[1]), r.getTokens(), text(bytes, cut < 0 ? bytes.length : cut), g.length, stop));
        }

        /** The complete characters of {@code bytes[0..n)}; the first bytes of a character cut short are left out. */
        private static String text(byte[] bytes, int n) {
            StreamingDecoder d = new StreamingDecoder(BYTES);
            StringBuilder out = new StringBuilder(n);
            for (int i = 0; i < n; i++) {
                d.push(bytes[i] & 0xFF, out);
            }
            return out.toString();
        }
    }
}
