package dev.flinkrwkv.jobs.logs;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The fraction of a line's words (numbers masked, see {@link LogWords}) never seen in the training lines: a
 * new error message brings new words, a routine line reuses old ones with other numbers.
 */
public final class UnseenWordsScorer implements TrainedScorer {
    private final Set<String> vocabulary = new HashSet<>();

    @Override
    public String name() {
        return "unseen-words";
    }

    @Override
    public void train(List<byte[]> lines) {
        for (byte[] line : lines) {
            vocabulary.addAll(LogWords.words(line));
        }
    }

    @Override
    public double score(byte[] line) {
        List<String> words = LogWords.words(line);
        if (words.isEmpty()) {
            return 0;
        }
        int unseen = 0;
        for (String w : words) {
            if (!vocabulary.contains(w)) {
                unseen++;
            }
        }
        return (double) unseen / words.size();
    }
}
