package dev.flinkrwkv.tokenize;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TokenizersTest {
    @Test
    void picksTheTokenizerOfAModelByItsVocabulary() {
        assertEquals("world", Tokenizers.forVocabulary(65536).name());
        assertEquals("20b", Tokenizers.forVocabulary(50277).name());
        assertEquals("20b", Tokenizers.forVocabulary(50304).name());
        assertEquals("bytes", Tokenizers.forVocabulary(256).name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.forVocabulary(32000));
        assertEquals("no tokenizer is known for a model vocabulary of 32000: name one (world, 20b, bytes, or a tokenizer"
                + " file)", e.getMessage());
    }

    @Test
    void byName() {
        assertSame(Tokenizers.named("world"), Tokenizers.named("world"));
        assertEquals(65536, Tokenizers.named("world").vocab());
        assertEquals(50277, Tokenizers.named("20b").vocab());
        assertEquals(256, Tokenizers.named("bytes").vocab());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.named("wrold"));
        assertEquals("unknown tokenizer 'wrold': name world, 20b or bytes, or give the path of a vocabulary file",
                e.getMessage());
    }

    @Test
    void aTokenizerWhoseIdsTheModelLacksIsRefusedAtStart() {
        assertDoesNotThrow(() -> Tokenizers.checkFits(Tokenizers.named("20b"), 50277));
        assertDoesNotThrow(() -> Tokenizers.checkFits(Tokenizers.named("20b"), 50304));
        assertDoesNotThrow(() -> Tokenizers.checkFits(Tokenizers.named("world"), 65536));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tokenizers.checkFits(Tokenizers.named("world"), 50277));
        assertEquals("the world tokenizer gives ids up to 65535 but the model's vocabulary has 50277 ids (0 to 50276);"
                + " this model's tokenizer is 20b", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.checkFits(Tokenizers.named("20b"), 256));
        assertEquals("the 20b tokenizer gives ids up to 50276 but the model's vocabulary has 256 ids (0 to 255);"
                + " this model's tokenizer is bytes", e.getMessage());
    }
}
