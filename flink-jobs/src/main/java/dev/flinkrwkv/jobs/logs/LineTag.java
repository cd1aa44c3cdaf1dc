package dev.flinkrwkv.jobs.logs;

import dev.flinkrwkv.jobs.format.ParsedRecord;
import dev.flinkrwkv.jobs.format.RecordOrigin;

/**
 * score-logs' tag for a line on its way through the RWKV operator: the first characters of the line's text
 * (for the output record) in front of its {@link RecordOrigin}, as {@code n|TEXT ORIGIN} where {@code n}
 * is the length of TEXT in chars (so the text may contain anything, {@code |} included).
 */
public record LineTag(String text, RecordOrigin origin) {
    public static String of(ParsedRecord r, int textChars) {
        String text = prefix(r.text, textChars);
        return text.length() + "|" + text + RecordOrigin.tag(r);
    }

    public static LineTag parse(String tag) {
        int bar = tag.indexOf('|');
        int n = Integer.parseInt(tag.substring(0, bar));
        int from = bar + 1;
        return new LineTag(tag.substring(from, from + n), RecordOrigin.parse(tag.substring(from + n)));
    }

    /** The first {@code chars} chars of {@code text} (one fewer rather than half a surrogate pair). */
    public static String prefix(String text, int chars) {
        if (text == null || chars <= 0) {
            return "";
        }
        if (text.length() <= chars) {
            return text;
        }
        int end = Character.isHighSurrogate(text.charAt(chars - 1)) ? chars - 1 : chars;
        return text.substring(0, end);
    }
}
