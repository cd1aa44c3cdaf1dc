package dev.flinkrwkv.operator;

import dev.flinkrwkv.tokenize.Tokenizer;
import dev.flinkrwkv.tokenize.Tokenizers;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopTextsTest {
    private static final List<byte[]> PARAGRAPH = List.of("\n\n".getBytes(StandardCharsets.UTF_8));

    /** Whether generating {@code ids} one by one stops, and after how many. */
    private static int stopsAfter(StopTexts s, int[] ids) {
        for (int n = 1; n <= ids.length; n++) {
            if (s.endsWithin(ids, n)) {
                return n;
            }
        }
        return -1;
    }

    /** A token of several bytes that ends with (or starts with) one newline and has no other. */
    private static int find(Tokenizer t, boolean endsWithNewline) {
        for (int id = 0; id < t.vocab(); id++) {
            byte[] b = t.decodeBytes(new int[] {id});
            int nl = 0;
            for (byte x : b) {
                nl += x == '\n' ? 1 : 0;
            }
            if (b.length > 1 && nl == 1 && b[endsWithNewline ? b.length - 1 : 0] == '\n') {
                return id;
            }
        }
        throw new AssertionError("no such token");
    }

    @Test
    void aStopTextStopsWhetherItIsOneTokenTwoOrSplitAcrossTokens() {
        Tokenizer world = Tokenizers.named("world");
        StopTexts s = new StopTexts(world, PARAGRAPH);
        int[] one = world.encode("Hi there\n\n");
        int nl = world.encode("\n")[0];
        int[] hi = world.encode("Hi");
        assertEquals(1, world.encode("\n\n").length, "World has \\n\\n as one token");
        assertEquals(one.length, stopsAfter(s, one));
        int[] two = {hi[0], nl, nl, hi[0]};
        assertEquals(3, stopsAfter(s, two));
        int[] across = {hi[0], find(world, true), find(world, false), hi[0]};
        assertEquals(3, stopsAfter(s, across), "the stop text spans the end of one token and the start of the next");
        assertEquals(-1, stopsAfter(s, world.encode("one\ntwo\nthree")));
    }

    @Test
    void theShownTextEndsBeforeTheFirstStopText() {
        GenerateOptions o = GenerateOptions.defaults().stopAtText("\n\n").stopAtText("User:");
        assertEquals(5, o.stopTextAt("Hello\n\nUser:".getBytes(StandardCharsets.UTF_8)));
        assertEquals(2, o.stopTextAt("OkUser:\n\n".getBytes(StandardCharsets.UTF_8)));
        assertEquals(-1, o.stopTextAt("no stop\n".getBytes(StandardCharsets.UTF_8)));
        assertTrue(new StopTexts(Tokenizers.named("bytes"), List.of()).isEmpty());
        assertFalse(new StopTexts(Tokenizers.named("bytes"), PARAGRAPH).endsWithin(new int[] {10}, 1));
    }
}
