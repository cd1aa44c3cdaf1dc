package dev.flinkrwkv.jobs.logs;

import dev.flinkrwkv.tokenize.Tokenizer;

/**
 * Where a log line's message starts: after its leading fields that hold digits (timestamps, dates, host,
 * node and request ids) or nothing but punctuation (a {@code -} for an empty field), which vary from line to
 * line in every log and say little about whether the line is normal. The message is what is left from the first field without a digit ({@code RAS KERNEL INFO ...} in
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
            boolean letter = false;
            while (i < line.length && !isBlank(line[i])) {
                byte b = line[i];
                digit |= b >= '0' && b <= '9';
                letter |= Character.isLetter(b & 0xFF);
                i++;
            }
            if (!digit && letter) {
                return fieldStart == line.length ? 0 : fieldStart;
            }
        }
        return 0;
    }

    /** The index of the first token of the message among {@code tokens}, the tokenizer's tokens of {@code line}. */
    public static int startToken(Tokenizer tokenizer, byte[] line, int[] tokens) {
        int offset = start(line);
        int bytes = 0;
        for (int t = 0; t < tokens.length; t++) {
            if (bytes >= offset) {
                return t;
            }
            bytes += tokenizer.decodeBytes(new int[] {tokens[t]}).length;
        }
        return tokens.length;
    }

    private static boolean isBlank(byte b) {
        return b == ' ' || b == '\t';
    }
}
