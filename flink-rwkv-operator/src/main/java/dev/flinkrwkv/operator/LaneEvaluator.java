package dev.flinkrwkv.operator;

import java.util.List;

/**
 * Evaluates a batch of lanes (one per key, its state attached, its records in order) in ragged passes and
 * emits one result per record: {@link RaggedScorer} for scoring, {@link RaggedGenerator} for generation.
 */
interface LaneEvaluator extends AutoCloseable {
    /** Receives each finished record's result, in per-key order. */
    interface Emitter {
        void emit(PendingRecord record, RwkvResult result) throws Exception;
    }

    /**
     * Evaluates every record of every lane and emits the results.
     *
     * @return the number of lane-steps taken
     */
    long evaluate(List<Lane> lanes, Emitter out) throws Exception;

    /** The device the batches run on ({@code cpu}, or the GPU's name), for the TaskManager log. */
    String device();

    /** Stops the evaluator's worker threads, if any. */
    @Override
    void close();
}
