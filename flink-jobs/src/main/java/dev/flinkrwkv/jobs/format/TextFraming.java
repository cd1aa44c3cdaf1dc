package dev.flinkrwkv.jobs.format;

import dev.flinkrwkv.tokenize.ByteTokenizer;
import dev.flinkrwkv.tokenize.Tokenizer;

/**
 * How a record's text becomes the tokens fed to its key's RWKV state, so that a key's records read as one
 * text with a line break between records. The text is tokenized on its own and the line break is one token
 * of its own (for byte-level models, vocabulary 256, every token is a UTF-8 byte).
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
 *       token 0 (end of text in the World and 20B vocabularies too). The history is the same kind of stream, but the record ends with its text, so the
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

    private static final Tokenizer BYTES = new ByteTokenizer();

    /** The token a new key's history starts with (the operator's start token), for byte-level models. */
    public int startToken() {
        return startToken(BYTES);
    }

    /** The token a new key's history starts with (the operator's start token) with tokenizer {@code t}. */
    public int startToken(Tokenizer t) {
        return this == LINE_THEN_NEWLINE ? lineBreak(t) : startToken;
    }

    /** The tokens fed for a record with this text, for byte-level models: its UTF-8 bytes and the separator. */
    public int[] tokens(String text) {
        return tokens(BYTES, text);
    }

    /** The tokens fed for a record with this text: its tokens and the separator, a line break. */
    public int[] tokens(Tokenizer t, String text) {
        int[] body = t.encode(text);
        int[] out = new int[body.length + 1];
        System.arraycopy(body, 0, out, textFrom, body.length);
        out[this == LINE_THEN_NEWLINE ? body.length : 0] = lineBreak(t);
        return out;
    }

    /**
     * The id of the line break in {@code t}'s vocabulary.
     *
     * @throws IllegalArgumentException if the tokenizer has no single token for it
     */
    public static int lineBreak(Tokenizer t) {
        int[] nl = t.encode("\n");
        if (nl.length != 1) {
            throw new IllegalArgumentException("the " + t.name() + " tokenizer has no single token for a line break,"
                    + " which separates a key's records");
        }
        return nl[0];
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
