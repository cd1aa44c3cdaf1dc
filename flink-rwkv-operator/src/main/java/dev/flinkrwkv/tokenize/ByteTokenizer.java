package dev.flinkrwkv.tokenize;

import java.nio.charset.StandardCharsets;

/**
 * The tokenizer of byte-level models (vocabulary 256): a text's UTF-8 bytes are its tokens, so every text
 * has an encoding and no table is needed.
 */
public final class ByteTokenizer implements Tokenizer {
    private static final long serialVersionUID = 1L;

    @Override
    public int[] encode(String text) {
        return encode(text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public int[] encode(byte[] bytes) {
        int[] tokens = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            tokens[i] = bytes[i] & 0xFF;
        }
        return tokens;
    }

    @Override
    public int vocab() {
        return 256;
    }

    @Override
    public String name() {
        return "bytes";
    }

    @Override
    public int tokenLength(int id) {
        checkId(id);
        return 1;
    }

    @Override
    public int tokenBytes(int id, byte[] dst, int offset) {
        checkId(id);
        dst[offset] = (byte) id;
        return 1;
    }

    @Override
    public String toString() {
        return "ByteTokenizer";
    }
}
