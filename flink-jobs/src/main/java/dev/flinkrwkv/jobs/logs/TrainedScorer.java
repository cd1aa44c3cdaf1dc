package dev.flinkrwkv.jobs.logs;

import java.util.List;

/**
 * A baseline fitted once to training lines (the normal lines the RWKV model is fitted to) and frozen while it
 * scores: the fair comparison for a fitted model. Each line is scored on its own, higher meaning more
 * anomalous. The online scorers ({@link LineScorer}) instead learn from the evaluated lines as they come,
 * anomalies included, which makes them weaker than the same ideas trained on clean data.
 * Implementations: {@link KneserNeyScorer}, {@link DictionaryDeflateScorer}, {@link UnseenWordsScorer},
 * {@link UnseenTemplateScorer}.
 */
public interface TrainedScorer {
    /** A short name for tables, saying what was chosen in training (e.g. {@code kn-ngram(5)}). */
    String name();

    /** Fits to these lines (their bytes, no line end); called once, before any {@link #score}. */
    void train(List<byte[]> lines);

    /** How anomalous a line is: higher is more. */
    double score(byte[] line);
}
