package dev.flinkrwkv.jobs.logs;

import dev.flinkrwkv.jobs.format.ParsedRecord;
import dev.flinkrwkv.jobs.format.RecordOrigin;

/**
 * score-logs' tag for a line on its way through the RWKV operator: the first characters of the line's text
 * (for the output record) and the index of the message's first token ({@link MessageBody}) in front of its
 * {@link RecordOrigin}, as {@code n,b|TEXT ORIGIN} where {@code n} is the length of TEXT in chars (so the
 * text may contain anything, {@code |} included) and {@code b} the token index. A tag without {@code ,b}
 * (written before the index existed, e.g. in a savepoint's buffered records) means 0: the whole line.
 */
public record LineTag(String text, int bodyStart, RecordOrigin origin) {
    public static String of(ParsedRecord r, int textChars, int bodyStart) {
        String text = prefix(r.text, textChars);
        return text.length() + "," + bodyStart + "|" + text + RecordOrigin.tag(r);
    }

    public static LineTag parse(String tag) {
        int bar = tag.indexOf('|');
        String head = tag.substring(0, bar);
        int comma = head.indexOf(',');
        int n = Integer.parseInt(comma < 0 ? head : head.substring(0, comma));
        int body = comma < 0 ? 0 : Integer.parseInt(head.substring(comma + 1));
        int from = bar + 1;
        return new LineTag(tag.substring(from, from + n), body, RecordOrigin.parse(tag.substring(from + n)));
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
