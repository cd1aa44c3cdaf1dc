package dev.flinkrwkv.jobs.logs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A log file with a label on every line, in the BGL format of the Loghub collection: the first
 * space-separated field is {@code -} for a normal line and an alert category (e.g. {@code KERNDTLB}) for an
 * anomaly. The label is <em>removed</em> from the text that is scored (the scorer must not see the answer);
 * lines end with LF or CR LF, and empty lines are skipped.
 */
public final class LabelledLog {
    private final List<byte[]> texts;
    private final boolean[] anomalous;
    private final String[] categories;

    private LabelledLog(List<byte[]> texts, boolean[] anomalous, String[] categories) {
        this.texts = texts;
        this.anomalous = anomalous;
        this.categories = categories;
    }

    public static LabelledLog readBgl(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("input " + file + " is not a readable file");
        }
        return parseBgl(Files.readAllBytes(file), file.toString());
    }

    /** Parses BGL-format bytes; {@code name} is used in error messages. */
    public static LabelledLog parseBgl(byte[] bytes, String name) throws IOException {
        List<byte[]> texts = new ArrayList<>();
        List<String> cats = new ArrayList<>();
        int lineNo = 0;
        for (int start = 0; start < bytes.length; ) {
            int nl = start;
            while (nl < bytes.length && bytes[nl] != '\n') {
                nl++;
            }
            int end = nl;
            if (end > start && bytes[end - 1] == '\r') {
                end--;
            }
            lineNo++;
            if (end > start) {
                int sp = start;
                while (sp < end && bytes[sp] != ' ') {
                    sp++;
                }
                if (sp == start || sp >= end) {
                    throw new IOException(name + " line " + lineNo + ": expected 'LABEL text' (BGL format: '-' for normal lines)");
                }
                cats.add(new String(bytes, start, sp - start, java.nio.charset.StandardCharsets.US_ASCII));
                texts.add(Arrays.copyOfRange(bytes, sp + 1, end));
            }
            start = nl + 1;
        }
        if (texts.isEmpty()) {
            throw new IOException(name + " has no lines");
        }
        boolean[] anomalous = new boolean[texts.size()];
        for (int i = 0; i < anomalous.length; i++) {
            anomalous[i] = !cats.get(i).equals("-");
        }
        return new LabelledLog(texts, anomalous, cats.toArray(new String[0]));
    }

    /** The first {@code n} lines (or all, if fewer). */
    public LabelledLog head(int n) {
        return slice(0, Math.min(n, texts.size()));
    }

    /** Lines {@code from} (inclusive) to {@code to} (exclusive), counted from 0. */
    public LabelledLog slice(int from, int to) {
        return new LabelledLog(texts.subList(from, to), Arrays.copyOfRange(anomalous, from, to),
                Arrays.copyOfRange(categories, from, to));
    }

    public int size() {
        return texts.size();
    }

    /** Line {@code i}'s text without its label and line end. */
    public byte[] text(int i) {
        return texts.get(i);
    }

    public List<byte[]> texts() {
        return texts;
    }

    public boolean anomalous(int i) {
        return anomalous[i];
    }

    /** {@code -} or the alert category. */
    public String category(int i) {
        return categories[i];
    }

    /**
     * The normal lines' texts, each followed by {@code \n} (labels and CRs gone, anomalies left out): what
     * a model is fitted to before it scores the rest of the file (eval-logs {@code --write-train}).
     */
    public byte[] normalText() {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < texts.size(); i++) {
            if (!anomalous[i]) {
                out.writeBytes(texts.get(i));
                out.write('\n');
            }
        }
        return out.toByteArray();
    }

    public int anomalies() {
        int n = 0;
        for (boolean a : anomalous) {
            if (a) {
                n++;
            }
        }
        return n;
    }
}
