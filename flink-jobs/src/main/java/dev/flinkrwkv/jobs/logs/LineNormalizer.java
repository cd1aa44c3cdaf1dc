package dev.flinkrwkv.jobs.logs;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * What a log line becomes before a model reads it, the same at fit time and at scoring time: {@code fit
 * --normalize} writes it into the model's {@link FitInfo}, and eval-logs and score-logs apply what they find
 * there. {@link #DIGITS} masks numbers and hex ids, so that a model spends its few parameters on the
 * structure of the lines (which message, which fields) rather than on timestamps, dates, counters and node
 * ids, which differ between the lines it was fitted to and the lines it scores.
 */
public enum LineNormalizer {
    /** The line as it is. */
    NONE("none"),
    /**
     * Every run of ASCII digits becomes one {@code 0}, and so does a whole word of hex digits with at least one
     * digit in it ({@code 0064588e}, {@code e6200003}, after {@code 0x} too), a word being a run of letters and
     * digits: {@code 2005-06-03-15.42.50.675872} is {@code 0-0-0-0.0.0.0}, {@code R02-M1-NE-C:J12-U11} is
     * {@code R0-M0-NE-C:J0-U0}, {@code bglio559} is {@code bglio0}; words without a digit stay as they are.
     */
    DIGITS("digits");

    /** What a masked number becomes. */
    public static final byte PLACEHOLDER = '0';

    private final String label;

    LineNormalizer(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static LineNormalizer parse(String s) {
        for (LineNormalizer n : values()) {
            if (n.label.equals(s)) {
                return n;
            }
        }
        throw new IllegalArgumentException("unknown line normalization '" + s + "' (none|digits)");
    }

    /** The line as the model reads it (the same array for {@link #NONE}). */
    public byte[] apply(byte[] line) {
        if (this == NONE) {
            return line;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(line.length);
        int i = 0;
        while (i < line.length) {
            if (!isAlphanumeric(line[i])) {
                out.write(line[i++]);
                continue;
            }
            int end = i;
            boolean hex = true, digit = false;
            while (end < line.length && isAlphanumeric(line[end])) {
                hex &= isHex(line[end]);
                digit |= isDigit(line[end]);
                end++;
            }
            if (hex && digit) {
                out.write(PLACEHOLDER);
            } else if (end - i > 2 && line[i] == '0' && (line[i + 1] == 'x' || line[i + 1] == 'X') && allHex(line, i + 2, end)) {
                out.write(line, i, 2);
                out.write(PLACEHOLDER);
            } else {
                for (int j = i; j < end; j++) {
                    if (!isDigit(line[j])) {
                        out.write(line[j]);
                    } else if (j == i || !isDigit(line[j - 1])) {
                        out.write(PLACEHOLDER);
                    }
                }
            }
            i = end;
        }
        return out.toByteArray();
    }

    /** {@link #apply(byte[])} on the line's UTF-8 bytes (the mask only touches ASCII letters and digits). */
    public String apply(String line) {
        return this == NONE ? line : new String(apply(line.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }

    /**
     * {@link #apply(byte[])} on every line of {@code text} ({@code \n}-separated; the line ends and a last line
     * without one kept as they are).
     */
    public byte[] applyToLines(byte[] text) {
        if (this == NONE) {
            return text;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length);
        int start = 0;
        for (int i = 0; i <= text.length; i++) {
            if (i == text.length || text[i] == '\n') {
                out.writeBytes(apply(java.util.Arrays.copyOfRange(text, start, i)));
                if (i < text.length) {
                    out.write('\n');
                }
                start = i + 1;
            }
        }
        return out.toByteArray();
    }

    private static boolean allHex(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!isHex(b[i])) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    private static boolean isHex(byte b) {
        return isDigit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
    }

    private static boolean isAlphanumeric(byte b) {
        return isDigit(b) || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
    }
}
