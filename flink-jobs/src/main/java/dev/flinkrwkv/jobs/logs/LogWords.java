package dev.flinkrwkv.jobs.logs;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A log line's words and template with the numbers masked: every run of digits becomes one {@code 0}, so
 * timestamps, counters, addresses and ids that differ only in their digits count as the same word
 * ({@code R02-M1-N0-C:J12-U11} and {@code R13-M0-N4-C:J02-U01} are both {@code R0-M0-N0-C:J0-U0}).
 */
final class LogWords {
    private LogWords() {}

    /** The line with each run of ASCII digits replaced by {@code 0} (bytes read as ISO-8859-1, one char each). */
    static String template(byte[] line) {
        StringBuilder sb = new StringBuilder(line.length);
        boolean inDigits = false;
        for (byte b : line) {
            boolean digit = b >= '0' && b <= '9';
            if (!(digit && inDigits)) {
                sb.append(digit ? '0' : (char) (b & 0xFF));
            }
            inDigits = digit;
        }
        return sb.toString();
    }

    /** The masked line split at spaces and tabs, empty pieces dropped. */
    static List<String> words(byte[] line) {
        String t = template(line);
        List<String> words = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= t.length(); i++) {
            boolean gap = i == t.length() || t.charAt(i) == ' ' || t.charAt(i) == '\t';
            if (gap && start >= 0) {
                words.add(t.substring(start, i));
                start = -1;
            } else if (!gap && start < 0) {
                start = i;
            }
        }
        return words;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
