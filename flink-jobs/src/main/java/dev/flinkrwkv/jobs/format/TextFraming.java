package dev.flinkrwkv.jobs.format;

import java.nio.charset.StandardCharsets;

/**
 * How a record's text becomes the tokens fed to its key's RWKV state, so that a key's records read as one
 * text with a line break between records. Byte-level models (vocabulary 256): a token is a UTF-8 byte.
 *
 * <p>The keyed operator feeds a key's <em>pending token</em> (the last token of its history, or the start
 * token for a new key) before a record's tokens and scores every token of the record; a framing says which
 * of those tokens are the text, whose scores make the text's surprisal.
 *
 * <ul>
 *   <li>{@link #LINE_THEN_NEWLINE} (score-logs): tokens {@code text \n}, a new key starts after a {@code \n}.
 *       The key's history is {@code \n line1 \n line2 \n ...}, the same byte stream, fed the same way, as
 *       eval-logs' {@code RwkvLineScorer}, so both score a line identically. The {@code \n} after a line is
 *       fed (the next line is predicted as a new line) but is not part of the line's score.</li>
 *   <li>{@link #NEWLINE_THEN_TEXT} (enrich): tokens {@code \n text}, a new key starts with the end-of-text
 *       token 0. The history is the same kind of stream, but the record ends with its text, so the
 *       next-token outputs after it (top-k) are the model's continuation of the text; the score of the
 *       leading {@code \n} is not part of the text's surprisal.</li>
 * </ul>
 */
public enum TextFraming {
    LINE_THEN_NEWLINE('\n', 0),
    NEWLINE_THEN_TEXT(0, 1);

    private final int startToken;
    private final int textFrom;

    TextFraming(int startToken, int textFrom) {
        this.startToken = startToken;
        this.textFrom = textFrom;
    }

    /** The token a new key's history starts with (the operator's start token). */
    public int startToken() {
        return startToken;
    }

    /** The tokens fed for a record with this text: its UTF-8 bytes and the separator. */
    public int[] tokens(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] t = new int[bytes.length + 1];
        for (int i = 0; i < bytes.length; i++) {
            t[textFrom + i] = bytes[i] & 0xFF;
        }
        t[this == LINE_THEN_NEWLINE ? bytes.length : 0] = '\n';
        return t;
    }

    /** Index of the text's first token among a record's tokens. */
    public int textFrom() {
        return textFrom;
    }

    /** Number of the text's tokens among a record's {@code tokens} tokens (all but the separator). */
    public int textLength(int tokens) {
        return tokens - 1;
    }
}
