package dev.flinkrwkv.jobs.runtime;

import dev.flinkrwkv.backend.Device;
import dev.flinkrwkv.operator.RwkvOperatorConfig;
import dev.flinkrwkv.rwkv.RwkvEvaluator;

import java.io.Serializable;
import java.time.Duration;

/**
 * How the jobs' keyed RWKV operator spends its time, independent of what it computes: records evaluated
 * together across keys, how long a record waits for its batch, and how many threads one operator instance's
 * evaluator splits a batched step over, and the device it runs on. None of the first four changes a result: a
 * key's outputs are the same bits whatever the batching and the thread count (the engine's tests check
 * both); on a GPU they agree with the CPU's within float rounding (docs/operator.md, "GPU").
 *
 * @param batchSize        records evaluated in one step, across keys (weights read once per step)
 * @param batchDelay       the longest a record waits for its batch to fill
 * @param evaluatorThreads threads per operator instance: more cores for one instance, which still reads the
 *                         weights once per step, where N parallel instances each read them
 * @param maxBatchTokens   the most tokens (of a batch's records, all keys together) one pass over the weights
 *                         evaluates; bounds the evaluator's scratch memory
 * @param device           where the operator evaluates: auto (the GPU when the task manager has one), cpu, cuda
 */
public record OperatorSettings(int batchSize, Duration batchDelay, int evaluatorThreads, int maxBatchTokens,
                               Device device) implements Serializable {
    public static final OperatorSettings DEFAULTS = new OperatorSettings(64, Duration.ofMillis(50), 1);

    /** With the default {@link #maxBatchTokens} and device. */
    public OperatorSettings(int batchSize, Duration batchDelay, int evaluatorThreads) {
        this(batchSize, batchDelay, evaluatorThreads, RwkvEvaluator.DEFAULT_MAX_BATCH_TOKENS);
    }

    /** With the default device, {@link Device#AUTO}. */
    public OperatorSettings(int batchSize, Duration batchDelay, int evaluatorThreads, int maxBatchTokens) {
        this(batchSize, batchDelay, evaluatorThreads, maxBatchTokens, Device.AUTO);
    }

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
        if (maxBatchTokens < 1) {
            throw new IllegalArgumentException("max batch tokens must be at least 1, got " + maxBatchTokens);
        }
        java.util.Objects.requireNonNull(device, "device");
    }

    /** The same settings with batches of {@code size} records waiting at most {@code delay}. */
    public static OperatorSettings batching(int size, Duration delay) {
        return new OperatorSettings(size, delay, DEFAULTS.evaluatorThreads);
    }

    public OperatorSettings withEvaluatorThreads(int n) {
        return new OperatorSettings(batchSize, batchDelay, n, maxBatchTokens, device);
    }

    /** Sets these settings on an operator configuration under construction. */
    public <IN> RwkvOperatorConfig.Builder<IN> applyTo(RwkvOperatorConfig.Builder<IN> b) {
        return b.maxBatchSize(batchSize).maxBatchDelay(batchDelay).evaluatorThreads(evaluatorThreads)
                .maxBatchTokens(maxBatchTokens).device(device);
    }
}
