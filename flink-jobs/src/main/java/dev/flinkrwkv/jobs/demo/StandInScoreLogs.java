package dev.flinkrwkv.jobs.demo;

import dev.flinkrwkv.jobs.format.ParsedRecord;
import dev.flinkrwkv.jobs.logs.AnomalyDetector;
import dev.flinkrwkv.jobs.logs.BaselineFunction;
import dev.flinkrwkv.jobs.logs.LineScore;
import dev.flinkrwkv.jobs.logs.LineTokens;
import dev.flinkrwkv.jobs.runtime.Pipeline;
import dev.flinkrwkv.operator.RwkvOperatorConfig;
import dev.flinkrwkv.operator.RwkvResult;
import dev.flinkrwkv.operator.RwkvStreams;
import dev.flinkrwkv.operator.ScoreOutput;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.util.function.SerializableFunction;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * STAND-IN for the score-logs pipeline until the score-logs command lands on main (branch scorejobs); the
 * demo's only use of it is {@link DemoCommand.ScoreLogsRun}, and it should then be replaced by the real
 * pipeline and deleted. It is assembled from the parts score-logs is specified to use: key by the record's
 * key, the keyed RWKV operator with per-token log-probabilities, {@link BaselineFunction} with the
 * {@link AnomalyDetector} defaults (threshold from the demo), JSON {@link LineScore}s keyed by key.
 *
 * <p>Each line is scored with its line feed ({@code text + "\n"}): the model was fitted on newline-separated
 * lines, so a key's history reads like the training text and the end of a line is predicted too.
 */
final class StandInScoreLogs implements Pipeline<LineScore> {
    private final String model;
    private final double threshold;

    StandInScoreLogs(String model, double threshold) {
        this.model = model;
        this.threshold = threshold;
    }

    @Override
    public DataStream<LineScore> build(DataStream<ParsedRecord> parsed) {
        RwkvOperatorConfig<ParsedRecord> cfg = RwkvOperatorConfig.<ParsedRecord>builder()
                .model(model)
                .text(r -> r.text + "\n")
                .tag(r -> r.partition + ":" + r.offset + ":" + r.source)
                .emit(ScoreOutput.LOG_PROBS)
                .maxBatchSize(64)
                .maxBatchDelay(Duration.ofMillis(50))
                .build();
        AnomalyDetector detector = new AnomalyDetector(AnomalyDetector.DEFAULT_ALPHA, AnomalyDetector.DEFAULT_WARMUP,
                threshold, AnomalyDetector.DEFAULT_MIN_STD);
        return RwkvStreams.score(parsed.keyBy(new ByKey()), cfg).uid("rwkv").name("rwkv")
                .map(new ToLineTokens()).name("line-tokens").uid("line-tokens")
                .keyBy(new TokensByKey())
                .process(new BaselineFunction(detector)).name("baseline").uid("baseline");
    }

    @Override
    public SerializableFunction<LineScore, byte[]> outputKey() {
        return s -> s.key.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public SerializableFunction<LineScore, byte[]> outputValue() {
        return LineScore::toJsonBytes;
    }

    private static final class ByKey implements KeySelector<ParsedRecord, String> {
        @Override
        public String getKey(ParsedRecord r) {
            return r.key;
        }
    }

    private static final class TokensByKey implements KeySelector<LineTokens, String> {
        @Override
        public String getKey(LineTokens t) {
            return t.key;
        }
    }

    /** The operator's result back to the line's origin, carried in the tag as {@code partition:offset:source}. */
    private static final class ToLineTokens implements MapFunction<RwkvResult, LineTokens> {
        @Override
        public LineTokens map(RwkvResult r) {
            String[] tag = r.getTag().split(":", 3);
            return new LineTokens(r.getKey(), tag[2], Integer.parseInt(tag[0]), Long.parseLong(tag[1]), r.getLogProbs());
        }
    }
}
