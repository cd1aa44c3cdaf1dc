package dev.flinkrwkv.operator;

import org.apache.flink.annotation.PublicEvolving;

/**
 * Optional parts of a {@link RwkvResult}; the key, record number, token count and mean surprisal are always
 * there. The next-token parts cost one extra model step per record (on a scratch copy of the state).
 */
@PublicEvolving
public enum ScoreOutput {
    /** Each token's log-probability. */
    LOG_PROBS,
    /** The top-k next tokens after the record, with their log-probabilities. */
    TOP_K,
    /** The next-token logits after the record (vocabulary floats; large for big vocabularies). */
    LAST_LOGITS;

    boolean needsNextToken() {
        return this != LOG_PROBS;
    }
}
