package dev.flinkrwkv.jobs.logs;

/**
 * Where a log line's message starts: after its leading fields that hold digits (timestamps, dates, host,
 * node and request ids), which vary from line to line in every log and say little about whether the line is
 * normal. The message is what is left from the first field without a digit ({@code RAS KERNEL INFO ...} in
 * BGL, {@code gateway request ...} in the demo's logs). A line whose every field has a digit is all message.
 */
public final class MessageBody {
    private MessageBody() {}

    /** The byte offset where the message starts (0 for a line that is all message). */
    public static int start(byte[] line) {
        int i = 0;
        while (i < line.length) {
            while (i < line.length && isBlank(line[i])) {
                i++;
            }
            int fieldStart = i;
            boolean digit = false;
            while (i < line.length && !isBlank(line[i])) {
                digit |= line[i] >= '0' && line[i] <= '9';
                i++;
            }
            if (!digit) {
                return fieldStart == line.length ? 0 : fieldStart;
            }
        }
        return 0;
    }

    private static boolean isBlank(byte b) {
        return b == ' ' || b == '\t';
    }
}
