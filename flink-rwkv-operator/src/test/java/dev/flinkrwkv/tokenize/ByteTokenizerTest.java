package dev.flinkrwkv.tokenize;

import dev.flinkrwkv.operator.RwkvOperatorConfig;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ByteTokenizerTest {
    @Test
    void tokensAreTheUtf8BytesAsUnsignedIds() {
        ByteTokenizer t = new ByteTokenizer();
        assertArrayEquals(new int[] {97, 0xC3, 0xA9, 32, 0xE2, 0x82, 0xAC}, t.encode("a\u00e9 \u20ac"));
        assertArrayEquals(new int[0], t.encode(""));
        assertEquals(256, t.vocab());
    }

    @Test
    void aTextConfigTokenizesTheRecordsText() {
        RwkvOperatorConfig<String> cfg = RwkvOperatorConfig.<String>builder().model("m.bin").text(s -> s).build();
        assertArrayEquals(new int[] {104, 105}, cfg.tokens().tokens("hi"));
    }
}
