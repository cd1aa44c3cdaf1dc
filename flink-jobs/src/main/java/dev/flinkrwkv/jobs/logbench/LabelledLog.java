package dev.flinkrwkv.jobs.logbench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A log in the loghub BGL layout: each line starts with its label, {@code -} for a normal line or an alert
 * category for an anomaly, then a space and the message. The label is stripped from the content, so models
 * see only what a live system would log.
 */
public final class LabelledLog {
    private final List<byte[]> lines = new ArrayList<>();
    private final List<Boolean> anomaly = new ArrayList<>();

    public static LabelledLog read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("log " + file + " is not a readable file");
        }
        LabelledLog log = new LabelledLog();
        byte[] all = Files.readAllBytes(file);
        int start = 0;
        for (int i = 0; i <= all.length; i++) {
            if (i == all.length || all[i] == '\n') {
                int end = i > start && all[i - 1] == '\r' ? i - 1 : i;
                if (end > start) {
                    log.add(all, start, end);
                }
                start = i + 1;
            }
        }
        if (log.lines.isEmpty()) {
            throw new IOException("log " + file + " has no lines");
        }
        return log;
    }

    private void add(byte[] all, int start, int end) {
        int space = start;
        while (space < end && all[space] != ' ') {
            space++;
        }
        boolean normal = space == start + 1 && all[start] == '-';
        int from = Math.min(space + 1, end);
        byte[] content = new byte[end - from];
        System.arraycopy(all, from, content, 0, content.length);
        lines.add(content);
        anomaly.add(!normal);
    }

    public int size() {
        return lines.size();
    }

    /** Line i's message without its label (and without the newline). */
    public byte[] line(int i) {
        return lines.get(i);
    }

    public boolean anomaly(int i) {
        return anomaly.get(i);
    }

    /** The normal lines among [from, to), each followed by a newline: the text a model is fitted to. */
    public byte[] normalText(int from, int to) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = from; i < to; i++) {
            if (!anomaly(i)) {
                out.writeBytes(line(i));
                out.write('\n');
            }
        }
        return out.toByteArray();
    }
}
