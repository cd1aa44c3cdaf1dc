package dev.flinkrwkv.state;

import org.apache.flink.annotation.PublicEvolving;

/**
 * A checkpoint or savepoint holds RWKV states of a different model than the job now runs. Continuing would
 * feed one model's hidden state to another, so restoring fails with this, naming both fingerprints, unless
 * the job asked to reset such states.
 */
@PublicEvolving
public final class ModelMismatchException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public ModelMismatchException(String message) {
        super(message);
    }
}
