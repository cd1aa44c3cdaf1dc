package dev.flinkrwkv.jobs.logs;

import dev.flinkrwkv.jobs.Shared;
import dev.flinkrwkv.rwkv.RwkvModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LineNormalizerTest {
    private static String digits(String s) {
        return new String(LineNormalizer.DIGITS.apply(s.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }

    @Test
    void digitsMasksEveryNumberAndHexIdButNoWord() {
        assertEquals("0 0.0.0 R0-M0-NE-C:J0-U0 0-0-0-0.0.0.0 R0-M0-NE-C:J0-U0 RAS KERNEL INFO 0 double-hummer"
                        + " alignment exceptions",
                digits("1117842440 2005.06.03 R23-M0-NE-C:J05-U01 2005-06-03-16.47.20.730545 R23-M0-NE-C:J05-U01 RAS"
                        + " KERNEL INFO 63543 double-hummer alignment exceptions"));
        assertEquals("(softheader=0 0 0) PSR0=0 at 0x0 bglio0 cpu=0, dead beef",
                digits("(softheader=0064588e 8aff0003 00000002) PSR0=00001f01 at 0x00544EB8 bglio559 cpu=105, dead beef"));
        assertEquals("", digits(""));
        assertEquals("héllo 0 wörld", digits("héllo 42 wörld"));
        // Lines that differ only in their numbers become the same line.
        assertEquals(digits("node 7 ok at 12:00:01"), digits("node 12 ok at 23:59:59"));
    }

    @Test
    void noneLeavesTheLineAndLinesOfATextAreMaskedOneByOne() {
        byte[] line = "id 42".getBytes(StandardCharsets.UTF_8);
        assertSame(line, LineNormalizer.NONE.apply(line));
        byte[] text = "a 1\nb 22\r\nc 333".getBytes(StandardCharsets.UTF_8);
        assertArrayEquals("a 0\nb 0\r\nc 0".getBytes(StandardCharsets.UTF_8), LineNormalizer.DIGITS.applyToLines(text));
        assertEquals(LineNormalizer.DIGITS, LineNormalizer.parse("digits"));
        assertThrows(IllegalArgumentException.class, () -> LineNormalizer.parse("numbers"));
    }

    /** What fit records is what scoring reads back, and the RWKV scorer then sees lines as fit's training text had them. */
    @Test
    void theScorerMasksDigitsAsFitDidSoLinesThatDifferInDigitsScoreAlike(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("m.bin");
        new FitInfo(10, 10, "last", 1, 1, 100, 10, false, 1, 32, 16, 16, "FP32", LineNormalizer.DIGITS).write(model);
        assertEquals(LineNormalizer.DIGITS, FitInfo.normalizerOf(model));
        new FitInfo(10, 10, "last", 1, 1, 100, 10, false, 1, 32, 16, 16, "FP32").write(model);
        assertEquals(LineNormalizer.NONE, FitInfo.normalizerOf(model));
        assertEquals(LineNormalizer.NONE, FitInfo.normalizerOf(dir.resolve("no-metadata.bin")));

        RwkvModel m = RwkvModel.load(Shared.tinyModel("tiny-rwkv-5v2-730K-FP32.bin"));
        List<byte[]> a = List.of(bytes("node 1 ok 2005.06.03"), bytes("job 17 done in 250 ms"));
        List<byte[]> b = List.of(bytes("node 93 ok 2006.11.28"), bytes("job 4 done in 9 ms"));
        RwkvLineScorer masked = new RwkvLineScorer(m).withNormalizer(LineNormalizer.DIGITS);
        RwkvLineScorer plain = new RwkvLineScorer(m);
        LineSurprisal[] ma = masked.score(a, n -> { }), mb = masked.score(b, n -> { });
        LineSurprisal[] pa = plain.score(a, n -> { }), pb = plain.score(b, n -> { });
        for (int i = 0; i < a.size(); i++) {
            assertEquals(ma[i].meanBits(), mb[i].meanBits(), 0.0);
            assertEquals(LineNormalizer.DIGITS.apply(a.get(i)).length, ma[i].tokens());
            assertNotEquals(pa[i].meanBits(), pb[i].meanBits());
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
