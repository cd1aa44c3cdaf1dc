package dev.flinkrwkv.jobs.logs;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * Scores the lines of one key in order, each given the lines before it: how surprising is line {@code i}
 * after lines {@code 0..i-1}? Every implementation learns online (a model state that carries the history,
 * counts that grow, a compression window that slides), so the first lines only warm it up.
 * Implementations: {@link RwkvLineScorer}, {@link DeflateLineScorer}, {@link NgramLineScorer}.
 */
public interface LineScorer {
    /** A short name for tables: {@code rwkv}, {@code deflate}, {@code ngram}. */
    String name();

    /**
     * One result per line, {@code result[i]} for {@code lines.get(i)} (the line's bytes without its end).
     * {@code progress} is told the number of lines done so far, now and then.
     */
    LineSurprisal[] score(List<byte[]> lines, IntConsumer progress);
}
