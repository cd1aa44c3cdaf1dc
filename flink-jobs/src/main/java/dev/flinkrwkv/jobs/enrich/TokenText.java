package dev.flinkrwkv.jobs.enrich;

import dev.flinkrwkv.tokenize.Tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * How a token is shown in JSON output: the text it stands for when its bytes are valid UTF-8 (JSON escapes
 * control characters); otherwise, for a token that holds part of a multi-byte character (every byte of 0x80 and
 * above in a byte-level vocabulary, some tokens of World and 20B), its ASCII bytes as characters and every other
 * byte as {@code <0xNN>}. A padding id beyond the tokenizer's vocabulary is shown as empty text.
 */
public final class TokenText {
    private TokenText() {}

    private static final Tokenizer BYTES = new dev.flinkrwkv.tokenize.ByteTokenizer();

    /** A token of a byte-level model (vocabulary 256). */
    public static String ofByte(int token) {
        if (token < 0 || token > 255) {
            throw new IllegalArgumentException("not a byte token: " + token);
        }
        return of(BYTES, token);
    }

    public static String of(Tokenizer t, int token) {
        if (token >= t.vocab()) {
            return ""; // an id of a model padded beyond its tokenizer (50304 for 20B's 50277) stands for no text
        }
        byte[] b = t.decodeBytes(new int[] {token});
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            StringBuilder s = new StringBuilder();
            for (byte x : b) {
                if (x >= 0) {
                    s.append((char) x);
                } else {
                    s.append(String.format("<0x%02X>", x & 0xFF));
                }
            }
            return s.toString();
        }
    }
}
