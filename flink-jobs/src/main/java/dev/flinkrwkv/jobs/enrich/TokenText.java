package dev.flinkrwkv.jobs.enrich;

/**
 * How a token is shown in JSON output. For a byte-level model (vocabulary 256) a token is one byte: bytes
 * below 0x80 are their character (JSON escapes control characters), higher bytes are parts of a
 * multi-byte character and are shown as {@code <0xNN>}.
 */
public final class TokenText {
    private TokenText() {}

    public static String ofByte(int token) {
        if (token < 0 || token > 255) {
            throw new IllegalArgumentException("not a byte token: " + token);
        }
        return token < 0x80 ? String.valueOf((char) token) : String.format("<0x%02X>", token);
    }
}
