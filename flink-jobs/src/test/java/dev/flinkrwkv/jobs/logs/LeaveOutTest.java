package dev.flinkrwkv.jobs.logs;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LeaveOutTest {
    private static String text(int lines) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            sb.append("line ").append(i).append('\n');
        }
        return sb.toString();
    }

    @Test
    void eachLineIsLeftOutByExactlyOneBlockAndTheRestKeepTheirOrder() {
        byte[] ten = text(10).getBytes(StandardCharsets.US_ASCII);
        assertEquals(10, LeaveOut.lines(ten));
        // blocks of 3, 3 and 4 lines
        assertEquals(text(10).substring(text(3).length()), new String(new LeaveOut(1, 3).apply(ten), StandardCharsets.US_ASCII));
        assertEquals("line 0\nline 1\nline 2\nline 6\nline 7\nline 8\nline 9\n",
                new String(new LeaveOut(2, 3).apply(ten), StandardCharsets.US_ASCII));
        assertEquals(text(6), new String(new LeaveOut(3, 3).apply(ten), StandardCharsets.US_ASCII));
        for (int lines : new int[] {2, 7, 904}) {
            for (int blocks = 2; blocks <= Math.min(5, lines); blocks++) {
                for (int line = 0; line < lines; line++) {
                    int by = 0;
                    for (int b = 1; b <= blocks; b++) {
                        by += new LeaveOut(b, blocks).leavesOut(line, lines) ? 1 : 0;
                    }
                    assertEquals(1, by, line + " of " + lines + " in " + blocks + " blocks");
                }
            }
        }
        // a last line without its newline is a line
        assertEquals("a\n", new String(new LeaveOut(2, 2).apply("a\nb".getBytes(StandardCharsets.US_ASCII)), StandardCharsets.US_ASCII));
    }

    @Test
    void itParsesIOverKAndRefusesTheRest() {
        assertEquals(new LeaveOut(2, 3), LeaveOut.parse("2/3"));
        assertEquals("2/3", LeaveOut.parse(" 2 / 3 ").label());
        for (String bad : new String[] {"3", "0/3", "4/3", "1/1", "a/b", "/3", "2/"}) {
            assertThrows(IllegalArgumentException.class, () -> LeaveOut.parse(bad), bad);
        }
    }
}
