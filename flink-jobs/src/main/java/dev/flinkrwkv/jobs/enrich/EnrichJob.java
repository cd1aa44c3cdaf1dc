package dev.flinkrwkv.jobs.enrich;

import dev.flinkrwkv.jobs.cli.CommandLine;
import dev.flinkrwkv.jobs.format.ParsedRecord;
import dev.flinkrwkv.jobs.format.TextFraming;
import dev.flinkrwkv.jobs.logs.LineSurprisal;
import dev.flinkrwkv.jobs.runtime.JobCount;
import dev.flinkrwkv.jobs.runtime.OperatorSettings;
import dev.flinkrwkv.jobs.runtime.Pipeline;
import dev.flinkrwkv.operator.RwkvOperatorConfig;
import dev.flinkrwkv.operator.RwkvResult;
import dev.flinkrwkv.operator.RwkvStreams;
import dev.flinkrwkv.operator.ScoreOutput;
import dev.flinkrwkv.tokenize.Tokenizer;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.util.function.SerializableFunction;

import java.nio.charset.StandardCharsets;

/**
 * The enrich job: JSON records &rarr; {@code keyBy(key)} &rarr; the keyed RWKV operator (per-token
 * log-probabilities and the top-k next tokens after the text) &rarr; the same record with an added field
 * ({@link Enrichment}): the text field's mean surprisal given the key's history, its most surprising
 * token, and the top-k next tokens with their probabilities.
 *
 * <p>Texts are tokenized by the job's tokenizer (the model's by default) and fed as
 * {@link TextFraming#NEWLINE_THEN_TEXT}: a key's history reads
 * {@code \n text1 \n text2 ...}, and each record ends with its text, so the top-k tokens continue the text
 * (a {@code \n} among them means "the text would end here"). The input record's JSON travels through the
 * operator as the result's tag, after the text's length in UTF-8 bytes (for the surprisal per byte).
 *
 * <p>{@link #main} runs the command {@code enrich}, for {@code flink run -c dev.flinkrwkv.jobs.enrich.EnrichJob}.
 */
public final class EnrichJob implements Pipeline<EnrichedRecord> {
    public static final TextFraming FRAMING = TextFraming.NEWLINE_THEN_TEXT;

    private final RwkvOperatorConfig<ParsedRecord> rwkv;
    private final Enrichment enrichment;
    private final int topK;

    private final Tokenizer tokenizer;

    public EnrichJob(String modelPath, Tokenizer tokenizer, int topK, String field, OperatorSettings operator) {
        this.tokenizer = tokenizer;
        this.rwkv = operator.applyTo(RwkvOperatorConfig.<ParsedRecord>builder())
                .model(modelPath)
                .tokens(r -> FRAMING.tokens(tokenizer, r.text))
                .tokenizer(tokenizer)
                .startToken(FRAMING.startToken(tokenizer))
                .tag(r -> r.text.getBytes(StandardCharsets.UTF_8).length + " " + r.json)
                .emit(ScoreOutput.LOG_PROBS, ScoreOutput.TOP_K).topK(topK)
                .build();
        this.enrichment = new Enrichment(field);
        this.topK = topK;
    }

    public static void main(String[] args) {
        CommandLine.exit(new EnrichCommand(), args);
    }

    @Override
    public DataStream<EnrichedRecord> build(DataStream<ParsedRecord> parsed) {
        return RwkvStreams.score(parsed.keyBy(r -> r.key, Types.STRING), rwkv).uid("rwkv")
                .map(new Enrich(enrichment, topK, tokenizer)).name("enrich").uid("enrich");
    }

    @Override
    public SerializableFunction<EnrichedRecord, byte[]> outputKey() {
        return r -> r.key.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public SerializableFunction<EnrichedRecord, byte[]> outputValue() {
        return r -> r.json.getBytes(StandardCharsets.UTF_8);
    }

    /** The operator's result for a record, written into the record (the tag) as the enrichment field. */
    static final class Enrich extends RichMapFunction<RwkvResult, EnrichedRecord> {
        private static final long serialVersionUID = 1L;
        private final Enrichment enrichment;
        private final int k;
        private final Tokenizer tokenizer;
        private transient LongCounter tokens;  // the record's tokens, for the progress line's rate

        Enrich(Enrichment enrichment, int k, Tokenizer tokenizer) {
            this.enrichment = enrichment;
            this.k = k;
            this.tokenizer = tokenizer;
        }

        @Override
        public void open(OpenContext ctx) {
            tokens = JobCount.tokens(getRuntimeContext());
        }

        @Override
        public EnrichedRecord map(RwkvResult r) {
            float[] lp = r.getLogProbs();
            int n = FRAMING.textLength(lp.length);
            LineSurprisal s = LineSurprisal.fromLogProbs(lp, FRAMING.textFrom(), n);
            float[] top = r.getTopLogProbs();
            float[] p = new float[top.length];
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) Math.exp(top[i]);
            }
            tokens.add(n);
            String tag = r.getTag();
            int space = tag.indexOf(' ');
            int bytes = Integer.parseInt(tag.substring(0, space));
            return new EnrichedRecord(r.getKey(), enrichment.enrich(tag.substring(space + 1), s.meanBits(), s.maxBits(), n,
                    bytes, r.getTopTokens(), p, Math.min(k, p.length), id -> TokenText.of(tokenizer, id)));
        }
    }
}
