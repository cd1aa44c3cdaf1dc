package dev.flinkrwkv.tokenize;

import java.io.Serializable;

/**
 * Turns text into the token ids a model reads. Implementations are stateless and serializable, so that a
 * Flink job can ship one to its operators.
 */
public interface Tokenizer extends Serializable {
    /** The token ids of {@code text}, in order. */
    int[] encode(String text);

    /** The vocabulary size this tokenizer produces ids for: every id is in {@code [0, vocab())}. */
    int vocab();
}
