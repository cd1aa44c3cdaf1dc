package dev.flinkrwkv.tokenize;

import dev.flinkrwkv.operator.RwkvOperatorConfig;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ByteTokenizerTest {
    @Test
    void tokensAreTheUtf8BytesAsUnsignedIds() {
        ByteTokenizer t = new ByteTokenizer();
        assertArrayEquals(new int[] {97, 0xC3, 0xA9, 32, 0xE2, 0x82, 0xAC}, t.encode("a\u00e9 \u20ac"));
        assertArrayEquals(new int[0], t.encode(""));
        assertEquals(256, t.vocab());
    }

    @Test
    void aTextConfigTokenizesWithTheModelsTokenizerUnlessOneIsNamed() {
        RwkvOperatorConfig<String> cfg = RwkvOperatorConfig.<String>builder().model("m.bin").text(s -> s).build();
        assertArrayEquals(new int[] {104, 105}, cfg.tokenizerFor(256).encode("hi"));
        assertEquals("world", cfg.tokenizerFor(65536).name());
        RwkvOperatorConfig<String> named = RwkvOperatorConfig.<String>builder().model("m.bin")
                .text(s -> s).tokenizer(Tokenizers.named("20b")).build();
        assertEquals("20b", named.tokenizerFor(50304).name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> named.tokenizerFor(256));
        assertTrue(e.getMessage().contains("20b tokenizer") && e.getMessage().contains("256"), e.getMessage());
    }
}
