package dev.flinkrwkv.jobs.logs;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * 1 for a line whose template (the whole line, numbers masked, see {@link LogWords}) never occurred in the
 * training lines, else 0: the crudest detector of a new kind of line, and a strong one on logs whose normal
 * traffic is a few templates.
 */
public final class UnseenTemplateScorer implements TrainedScorer {
    private final Set<String> templates = new HashSet<>();

    @Override
    public String name() {
        return "unseen-template";
    }

    @Override
    public void train(List<byte[]> lines) {
        for (byte[] line : lines) {
            templates.add(LogWords.template(line));
        }
    }

    @Override
    public double score(byte[] line) {
        return templates.contains(LogWords.template(line)) ? 0 : 1;
    }
}
