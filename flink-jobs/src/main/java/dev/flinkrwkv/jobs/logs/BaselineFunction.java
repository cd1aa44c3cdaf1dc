package dev.flinkrwkv.jobs.logs;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * score-logs' last keyed step: a line's per-token log-probabilities become a {@link LineScore} against
 * the key's running {@link Baseline}, kept in keyed state as its 24-byte form (RocksDB in the jobs). The
 * aggregation ({@link LineStatistic}, the mean unless told otherwise) and the decision ({@link AnomalyDetector}) are the same
 * code eval-logs uses, so a file scored offline and the same lines streamed give the same scores.
 * Deterministic, so a replay after a failure emits the same scores.
 */
public final class BaselineFunction extends KeyedProcessFunction<String, LineTokens, LineScore> {
    private static final long serialVersionUID = 1L;
    private final AnomalyDetector detector;
    private final LineStatistic statistic;
    private transient ValueState<byte[]> baseline;

    public BaselineFunction(AnomalyDetector detector) {
        this(detector, LineStatistic.MEAN);
    }

    /** Scores each line by {@code statistic} of its tokens' surprisals (eval-logs' rows of the same name). */
    public BaselineFunction(AnomalyDetector detector, LineStatistic statistic) {
        this.detector = detector;
        this.statistic = statistic;
    }

    @Override
    public void open(OpenContext ctx) {
        baseline = getRuntimeContext().getState(
                new ValueStateDescriptor<>("score-logs-baseline", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    }

    @Override
    public void processElement(LineTokens line, Context ctx, Collector<LineScore> out) throws Exception {
        Baseline b = Baseline.fromBytes(baseline.value());
        LineSurprisal s = statistic.of(line.logProbs, line.bodyStart);
        LineScore score = detector.score(line.key, line.source, line.partition, line.offset, s, b);
        score.text = line.text;
        out.collect(score);
        baseline.update(b.toBytes());
    }
}
