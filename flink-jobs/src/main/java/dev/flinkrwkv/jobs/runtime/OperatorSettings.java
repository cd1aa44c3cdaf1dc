package dev.flinkrwkv.jobs.runtime;

import dev.flinkrwkv.operator.RwkvOperatorConfig;

import java.io.Serializable;
import java.time.Duration;

/**
 * How the jobs' keyed RWKV operator spends its time, independent of what it computes: records evaluated
 * together across keys, how long a record waits for its batch, and how many threads one operator instance's
 * evaluator splits a batched step over. None of them changes a result: a key's outputs are the same bits
 * whatever the batching and the thread count (the engine's tests check both).
 *
 * @param batchSize        records evaluated in one step, across keys (weights read once per step)
 * @param batchDelay       the longest a record waits for its batch to fill
 * @param evaluatorThreads threads per operator instance: more cores for one instance, which still reads the
 *                         weights once per step, where N parallel instances each read them
 */
public record OperatorSettings(int batchSize, Duration batchDelay, int evaluatorThreads) implements Serializable {
    public static final OperatorSettings DEFAULTS = new OperatorSettings(64, Duration.ofMillis(50), 1);

    public OperatorSettings {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        if (batchDelay.isNegative()) {
            throw new IllegalArgumentException("batch delay must not be negative, got " + batchDelay);
        }
        if (evaluatorThreads < 1) {
            throw new IllegalArgumentException("evaluator threads must be at least 1, got " + evaluatorThreads);
        }
    }

    /** The same settings with batches of {@code size} records waiting at most {@code delay}. */
    public static OperatorSettings batching(int size, Duration delay) {
        return new OperatorSettings(size, delay, DEFAULTS.evaluatorThreads);
    }

    public OperatorSettings withEvaluatorThreads(int n) {
        return new OperatorSettings(batchSize, batchDelay, n);
    }

    /** Sets these settings on an operator configuration under construction. */
    public <IN> RwkvOperatorConfig.Builder<IN> applyTo(RwkvOperatorConfig.Builder<IN> b) {
        return b.maxBatchSize(batchSize).maxBatchDelay(batchDelay).evaluatorThreads(evaluatorThreads);
    }
}
