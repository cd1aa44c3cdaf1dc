package dev.flinkrwkv.jobs.scorelogs;

import dev.flinkrwkv.jobs.cli.CommandLine;
import dev.flinkrwkv.jobs.format.ParsedRecord;
import dev.flinkrwkv.jobs.format.RecordOrigin;
import dev.flinkrwkv.jobs.format.TextFraming;
import dev.flinkrwkv.jobs.logs.AnomalyDetector;
import dev.flinkrwkv.jobs.logs.BaselineFunction;
import dev.flinkrwkv.jobs.logs.FitCheck;
import dev.flinkrwkv.jobs.logs.FitInfo;
import dev.flinkrwkv.jobs.logs.LineScore;
import dev.flinkrwkv.jobs.logs.LineNormalizer;
import dev.flinkrwkv.jobs.logs.LineTag;
import dev.flinkrwkv.jobs.logs.LineStatistic;
import dev.flinkrwkv.jobs.logs.LineTokens;
import dev.flinkrwkv.jobs.logs.MessageBody;
import dev.flinkrwkv.jobs.runtime.OperatorSettings;
import dev.flinkrwkv.jobs.runtime.Pipeline;
import dev.flinkrwkv.operator.RwkvOperatorConfig;
import dev.flinkrwkv.operator.RwkvResult;
import dev.flinkrwkv.operator.RwkvStreams;
import dev.flinkrwkv.operator.ScoreOutput;
import dev.flinkrwkv.jobs.runtime.JobCount;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamUtils;
import org.apache.flink.util.function.SerializableFunction;

import java.nio.charset.StandardCharsets;
import dev.flinkrwkv.tokenize.ByteTokenizer;
import dev.flinkrwkv.tokenize.Tokenizer;

import java.util.Arrays;

/**
 * The score-logs job: parsed lines &rarr; {@code keyBy(key)} &rarr; the keyed RWKV operator (per-token
 * log-probabilities, each line given its key's history) &rarr; {@link LineTokens} &rarr;
 * {@link BaselineFunction} (the key's running baseline, the standardized score, the flag) &rarr;
 * {@link LineScore} JSON. {@link dev.flinkrwkv.jobs.runtime.JobTopology} puts the source, parsing, dead
 * letters and the exactly-once sink around it.
 *
 * <p>Lines are fed as {@link TextFraming#LINE_THEN_NEWLINE}: the key's lines are one byte stream
 * {@code \n line \n line ...}, exactly what eval-logs' {@link RwkvLineScorer} feeds, and a line's score
 * is taken over its own bytes only; so the streaming job and the offline evaluation give the same scores
 * for the same lines of a key in the same order (tested). With another tokenizer (a World model, say) a line is
 * its tokens and a line break token, and its score is in bits per token of that tokenizer.
 *
 * <p>After the operator the stream is still partitioned by key (the operator emits on the subtask of its
 * key), so the baseline step reinterprets it as keyed instead of shuffling it again.
 *
 * <p>{@link #main} runs the command {@code score-logs}, for {@code flink run -c dev.flinkrwkv.jobs.scorelogs.ScoreLogsJob}.
 */
public final class ScoreLogsJob implements Pipeline<LineScore> {
    public static final TextFraming FRAMING = TextFraming.LINE_THEN_NEWLINE;

    private final String modelPath;
    private final Tokenizer tokenizer;
    private final OperatorSettings operator;
    private final int textChars;
    private final AnomalyDetector detector;
    private LineStatistic statistic = LineStatistic.MEAN;
    private LineNormalizer normalizer = LineNormalizer.NONE;
    private FitCheck fitCheck;

    /** How many characters of each line the output carries by default. */
    public static final int DEFAULT_TEXT_CHARS = 200;

    /** {@code modelPath}: read by every task manager at this path. */
    public ScoreLogsJob(String modelPath, OperatorSettings operator, AnomalyDetector detector) {
        this(modelPath, operator, detector, DEFAULT_TEXT_CHARS);
    }

    /** {@code textChars}: the output carries each line's first so many characters (0: no text). */
    public ScoreLogsJob(String modelPath, OperatorSettings operator, AnomalyDetector detector, int textChars) {
        this(modelPath, new ByteTokenizer(), operator, detector, textChars);
    }

    /** {@code tokenizer}: how lines become tokens (the model's; bytes for a byte-level model). */
    public ScoreLogsJob(String modelPath, Tokenizer tokenizer, OperatorSettings operator, AnomalyDetector detector,
                        int textChars) {
        if (textChars < 0) {
            throw new IllegalArgumentException("the number of text characters to output must be >= 0, got " + textChars);
        }
        this.modelPath = modelPath;
        this.tokenizer = tokenizer;
        this.operator = operator;
        this.textChars = textChars;
        this.detector = detector;
    }

    /**
     * The RWKV operator's settings. The tag carries the message's first token only for a statistic over the
     * message: finding it tokenizes the line a second time, which the mean does not need.
     */
    private RwkvOperatorConfig<ParsedRecord> operatorConfig() {
        Tokenizer tokenizer = this.tokenizer;
        int textChars = this.textChars;
        boolean body = statistic.overTheMessage();
        LineNormalizer normalizer = this.normalizer;
        return operator.applyTo(RwkvOperatorConfig.<ParsedRecord>builder())
                .model(modelPath)
                .tokens(r -> FRAMING.tokens(tokenizer, normalizer.apply(r.text)))
                .tokenizer(tokenizer)
                .startToken(FRAMING.startToken(tokenizer))
                .tag(r -> LineTag.of(r, textChars, body ? bodyStart(tokenizer, normalizer.apply(r.text)) : 0))
                .emit(ScoreOutput.LOG_PROBS)
                .build();
    }

    /** The index of the message's first token in the line's tokens (as the operator gets them, after the framing). */
    private static int bodyStart(Tokenizer tokenizer, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return MessageBody.startToken(tokenizer, bytes, tokenizer.encode(bytes));
    }

    /** Scores each line by {@code s} of its tokens' surprisals instead of their mean (eval-logs' {@code rwkv:NAME} rows). */
    public ScoreLogsJob withLineStatistic(LineStatistic s) {
        this.statistic = s;
        return this;
    }

    /**
     * Each line goes through {@code n} before it is tokenized (what the model was fitted to, {@link FitInfo#normalize});
     * the output keeps the line's own text.
     */
    public ScoreLogsJob withNormalizer(LineNormalizer n) {
        this.normalizer = n;
        return this;
    }

    /**
     * Also warns when the stream is far from what the model was fitted to ({@link FitCheck}); {@code fit}
     * null (a model without {@link FitInfo}, or nothing measured) for no check.
     */
    public ScoreLogsJob withFitCheck(FitInfo fit, String modelName) {
        this.fitCheck = fit != null && Double.isFinite(fit.expectedBitsPerByte())
                ? new FitCheck(fit.expectedBitsPerByte(), modelName) : null;
        return this;
    }

    public static void main(String[] args) {
        CommandLine.exit(new ScoreLogsCommand(), args);
    }

    @Override
    public DataStream<LineScore> build(DataStream<ParsedRecord> parsed) {
        DataStream<LineTokens> lines = RwkvStreams.score(parsed.keyBy(r -> r.key, Types.STRING), operatorConfig()).uid("rwkv")
                .map(new ToLineTokens()).name("line-tokens").uid("line-tokens");
        if (fitCheck != null) {  // a forward map: the lines stay on the subtask of their key
            lines = lines.map(fitCheck).name("fit-check").uid("fit-check");
        }
        return DataStreamUtils.reinterpretAsKeyedStream(lines, t -> t.key, Types.STRING)
                .process(new BaselineFunction(detector, statistic)).name("baseline").uid("baseline");
    }

    @Override
    public SerializableFunction<LineScore, byte[]> outputKey() {
        return s -> s.key.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public SerializableFunction<LineScore, byte[]> outputValue() {
        return LineScore::toJsonBytes;
    }

    /**
     * The operator's result for a line: its origin back from the tag, the line's own tokens' log-probabilities;
     * counts the line's tokens for the progress line's rate ({@link JobCount#tokens}).
     */
    static final class ToLineTokens extends RichMapFunction<RwkvResult, LineTokens> {
        private static final long serialVersionUID = 1L;
        private transient LongCounter tokens;

        @Override
        public void open(OpenContext ctx) {
            tokens = JobCount.tokens(getRuntimeContext());
        }

        @Override
        public LineTokens map(RwkvResult r) {
            LineTag tag = LineTag.parse(r.getTag());
            RecordOrigin o = tag.origin();
            float[] lp = r.getLogProbs();
            int from = FRAMING.textFrom();
            float[] line = Arrays.copyOfRange(lp, from, from + FRAMING.textLength(lp.length));
            tokens.add(line.length);
            LineTokens t = new LineTokens(r.getKey(), o.source(), o.partition(), o.offset(), line);
            t.text = tag.text().isEmpty() ? null : tag.text();
            t.bodyStart = tag.bodyStart();
            return t;
        }
    }
}
