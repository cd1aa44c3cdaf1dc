package dev.flinkrwkv.jobs.logs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A log file with a label on every line, read one of four ways:
 * <ul>
 *   <li>{@link #readBgl}: the BGL format of the Loghub collection: the first space-separated field is
 *       {@code -} for a normal line and an alert category (e.g. {@code KERNDTLB}) for an anomaly. The label
 *       is <em>removed</em> from the text that is scored (the scorer must not see the answer). A file whose
 *       first fields do not look like such labels is refused (see {@link #checkBglLike}), since taking each
 *       line's first word as its label would make nonsense of every figure;</li>
 *   <li>{@link #readMatching}: whole lines, anomalous where a regular expression matches;</li>
 *   <li>{@link #readWithLabelFile}: whole lines, labels from a second file, one {@code 0} or {@code 1} per line;</li>
 *   <li>{@link #readUnlabelled}: whole lines, no labels at all ({@link #labelled()} false: scores only).</li>
 * </ul>
 * Lines end with LF or CR LF; empty lines are skipped.
 */
public final class LabelledLog {
    /** The category of an anomaly labelled by a pattern or a label file (BGL labels carry their own). */
    public static final String ANOMALY = "anomaly";
    /** The category of a normal line. */
    public static final String NORMAL = "-";

    private final List<byte[]> texts;
    private final boolean[] anomalous;
    private final String[] categories;
    private final boolean labelled;

    private LabelledLog(List<byte[]> texts, boolean[] anomalous, String[] categories, boolean labelled) {
        this.texts = texts;
        this.anomalous = anomalous;
        this.categories = categories;
        this.labelled = labelled;
    }

    public static LabelledLog readBgl(Path file) throws IOException {
        return parseBgl(read(file), file.toString());
    }

    /**
     * {@link #readBgl} without the test that the labels look like BGL's, for a file whose labels are known
     * to be right whatever their proportions (the demo's own stream, at any anomaly rate).
     */
    public static LabelledLog readBglTrusted(Path file) throws IOException {
        return parseBgl(read(file), file.toString(), false);
    }

    /** Whole lines of {@code file}; a line is anomalous where {@code pattern} is found in it. */
    public static LabelledLog readMatching(Path file, Pattern pattern) throws IOException {
        List<byte[]> lines = new ArrayList<>();
        splitLines(read(file), lines, null);
        String[] cats = new String[lines.size()];
        for (int i = 0; i < cats.length; i++) {
            boolean hit = pattern.matcher(new String(lines.get(i), StandardCharsets.UTF_8)).find();
            cats[i] = hit ? ANOMALY : NORMAL;
        }
        return of(lines, cats, file.toString(), true);
    }

    /**
     * Whole lines of {@code file}, labelled by {@code labelFile}: one {@code 0} (normal) or {@code 1}
     * (anomalous) per line of {@code file}, empty lines included (their labels are skipped with them).
     */
    public static LabelledLog readWithLabelFile(Path file, Path labelFile) throws IOException {
        List<byte[]> lines = new ArrayList<>();
        List<Integer> lineNumbers = new ArrayList<>();
        int total = splitLines(read(file), lines, lineNumbers);
        List<byte[]> labels = new ArrayList<>();
        List<Integer> labelLines = new ArrayList<>();
        int labelTotal = splitLines(read(labelFile), labels, labelLines);
        if (labelTotal != total || labels.size() != labelTotal) {
            throw new IOException(labelFile + " has " + labels.size() + " labels for the " + total + " lines of " + file
                    + " (one 0 or 1 per line, empty lines included)");
        }
        String[] cats = new String[lines.size()];
        for (int i = 0; i < cats.length; i++) {
            String v = new String(labels.get(lineNumbers.get(i) - 1), StandardCharsets.UTF_8).trim();
            if (!v.equals("0") && !v.equals("1")) {
                throw new IOException(labelFile + " line " + lineNumbers.get(i) + ": expected 0 or 1, got '" + v + "'");
            }
            cats[i] = v.equals("1") ? ANOMALY : NORMAL;
        }
        return of(lines, cats, file.toString(), true);
    }

    /** Whole lines of {@code file} without labels: every line counts as normal and only scores mean anything. */
    public static LabelledLog readUnlabelled(Path file) throws IOException {
        List<byte[]> lines = new ArrayList<>();
        splitLines(read(file), lines, null);
        String[] cats = new String[lines.size()];
        Arrays.fill(cats, NORMAL);
        return of(lines, cats, file.toString(), false);
    }

    /** Parses BGL-format bytes; {@code name} is used in error messages. */
    public static LabelledLog parseBgl(byte[] bytes, String name) throws IOException {
        return parseBgl(bytes, name, true);
    }

    private static LabelledLog parseBgl(byte[] bytes, String name, boolean check) throws IOException {
        List<byte[]> lines = new ArrayList<>();
        List<Integer> lineNumbers = new ArrayList<>();
        splitLines(bytes, lines, lineNumbers);
        List<byte[]> texts = new ArrayList<>(lines.size());
        String[] cats = new String[lines.size()];
        for (int i = 0; i < lines.size(); i++) {
            byte[] line = lines.get(i);
            int sp = 0;
            while (sp < line.length && line[sp] != ' ') {
                sp++;
            }
            if (sp == 0 || sp >= line.length) {
                throw new IOException(name + " line " + lineNumbers.get(i) + ": expected 'LABEL text' (BGL format: '-' for"
                        + " normal lines); " + OTHER_LABELS);
            }
            cats[i] = new String(line, 0, sp, StandardCharsets.US_ASCII);
            texts.add(Arrays.copyOfRange(line, sp + 1, line.length));
        }
        LabelledLog log = of(texts, cats, name, true);
        if (check) {
            checkBglLike(log, name);
        }
        return log;
    }

    private static final String OTHER_LABELS = "for other logs give --labels REGEX (a matching line is anomalous),"
            + " --label-file FILE (one 0/1 per line) or --unlabelled (scores only)";

    /**
     * Refuses "labels" that are not BGL's: a log without such labels has its first word (a date, a host)
     * taken as the label, which makes nearly every line an anomaly of its own kind. BGL-like means: some
     * lines are labelled {@code -}, at most half are anomalous, and the anomalies fall into a few categories
     * (at most 100, and at most one per 10 anomalous lines beyond the first 20).
     */
    static void checkBglLike(LabelledLog log, String name) throws IOException {
        int anomalies = log.anomalies();
        java.util.Set<String> kinds = new java.util.HashSet<>();
        for (int i = 0; i < log.size(); i++) {
            if (log.anomalous(i)) {
                kinds.add(log.category(i));
            }
        }
        String why = null;
        if (anomalies == log.size()) {
            why = "no line starts with '-' (the label of a normal line)";
        } else if (anomalies * 2 > log.size()) {
            why = String.format(java.util.Locale.ROOT, "%d of %d lines would be anomalous", anomalies, log.size());
        } else if (kinds.size() > Math.min(100, 20 + anomalies / 10)) {
            why = kinds.size() + " distinct labels among " + anomalies + " anomalous lines";
        }
        if (why != null) {
            throw new IOException(name + " does not look BGL-labelled ('-' or an alert category first on each line): "
                    + why + "; " + OTHER_LABELS);
        }
    }

    private static byte[] read(Path file) throws IOException {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IOException("input " + file + " is not a readable file");
        }
        return Files.readAllBytes(file);
    }

    /**
     * Adds the non-empty lines of {@code bytes} (without LF or CR LF) to {@code lines}, and their numbers
     * (from 1) to {@code lineNumbers} if not null; returns the number of lines, empty ones included.
     */
    private static int splitLines(byte[] bytes, List<byte[]> lines, List<Integer> lineNumbers) {
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
                lines.add(Arrays.copyOfRange(bytes, start, end));
                if (lineNumbers != null) {
                    lineNumbers.add(lineNo);
                }
            }
            start = nl + 1;
        }
        return lineNo;
    }

    private static LabelledLog of(List<byte[]> texts, String[] cats, String name, boolean labelled) throws IOException {
        if (texts.isEmpty()) {
            throw new IOException(name + " has no lines");
        }
        boolean[] anomalous = new boolean[texts.size()];
        for (int i = 0; i < anomalous.length; i++) {
            anomalous[i] = !cats[i].equals(NORMAL);
        }
        return new LabelledLog(texts, anomalous, cats, labelled);
    }

    /** False for a log read without labels: every line counts as normal, and only the scores mean anything. */
    public boolean labelled() {
        return labelled;
    }

    /** The first {@code n} lines (or all, if fewer). */
    public LabelledLog head(int n) {
        return slice(0, Math.min(n, texts.size()));
    }

    /** Lines {@code from} (inclusive) to {@code to} (exclusive), counted from 0. */
    public LabelledLog slice(int from, int to) {
        return new LabelledLog(texts.subList(from, to), Arrays.copyOfRange(anomalous, from, to),
                Arrays.copyOfRange(categories, from, to), labelled);
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
