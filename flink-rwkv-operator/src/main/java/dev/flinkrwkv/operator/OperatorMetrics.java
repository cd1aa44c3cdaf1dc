package dev.flinkrwkv.operator;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import java.util.function.LongSupplier;

/**
 * The operator's metrics, in its metric group under {@code rwkv}: {@code tokens} (of the records scored) and
 * {@code tokensPerSecond},
 * {@code records}, {@code recordsPerBatch} (histogram), {@code residentStates}, {@code residentBytes},
 * {@code writeBacks} (total), {@code writeBacksLastCheckpoint}, {@code evictions}, {@code evaluatorNanos}
 * (total time in the model) and {@code batchMillis} (histogram of a batch's model time).
 */
final class OperatorMetrics {
    private final Counter tokens;
    private final Counter records;
    private final Histogram recordsPerBatch;
    private final Counter writeBacks;
    private final Counter evictions;
    private final Counter evaluatorNanos;
    private final Histogram batchMillis;
    private volatile long writeBacksLastCheckpoint;

    OperatorMetrics(MetricGroup parent, LongSupplier residentStates, LongSupplier residentBytes) {
        MetricGroup g = parent.addGroup("rwkv");
        tokens = g.counter("tokens");
        g.meter("tokensPerSecond", new MeterView(tokens));
        records = g.counter("records");
        recordsPerBatch = g.histogram("recordsPerBatch", new DescriptiveStatisticsHistogram(1000));
        g.gauge("residentStates", residentStates::getAsLong);
        g.gauge("residentBytes", residentBytes::getAsLong);
        writeBacks = g.counter("writeBacks");
        g.gauge("writeBacksLastCheckpoint", () -> writeBacksLastCheckpoint);
        evictions = g.counter("evictions");
        evaluatorNanos = g.counter("evaluatorNanos");
        batchMillis = g.histogram("batchMillis", new DescriptiveStatisticsHistogram(1000));
    }

    void batch(int recordCount, long tokenCount, long nanos) {
        records.inc(recordCount);
        tokens.inc(tokenCount);
        recordsPerBatch.update(recordCount);
        evaluatorNanos.inc(nanos);
        batchMillis.update(nanos / 1_000_000);
    }

    void evicted(int count, int written) {
        evictions.inc(count);
        writeBacks.inc(written);
    }

    /** States written back outside a checkpoint (at the end of input). */
    void wroteBack(int written) {
        writeBacks.inc(written);
    }

    void checkpoint(int written) {
        writeBacks.inc(written);
        writeBacksLastCheckpoint = written;
    }
}
