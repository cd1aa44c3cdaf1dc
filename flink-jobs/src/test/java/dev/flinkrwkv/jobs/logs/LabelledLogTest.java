package dev.flinkrwkv.jobs.logs;

import dev.flinkrwkv.jobs.Shared;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LabelledLogTest {
    @Test
    void labelsComeFromTheFirstFieldWhichIsRemovedFromTheText() throws IOException {
        String file = "- 111 R02 RAS KERNEL INFO ok\r\nKERNDTLB 112 R03 RAS KERNEL FATAL data TLB error\r\n\r\n- 113 R02 x\n";
        LabelledLog log = LabelledLog.parseBgl(file.getBytes(StandardCharsets.US_ASCII), "t");
        assertEquals(3, log.size());
        assertFalse(log.anomalous(0));
        assertTrue(log.anomalous(1));
        assertEquals("KERNDTLB", log.category(1));
        assertEquals("-", log.category(2));
        assertEquals("111 R02 RAS KERNEL INFO ok", new String(log.text(0), StandardCharsets.US_ASCII));
        assertEquals("112 R03 RAS KERNEL FATAL data TLB error", new String(log.text(1), StandardCharsets.US_ASCII));
        assertEquals("113 R02 x", new String(log.text(2), StandardCharsets.US_ASCII));
        assertEquals(1, log.anomalies());
        assertEquals(2, log.head(2).size());
        assertEquals("111 R02 RAS KERNEL INFO ok\n113 R02 x\n", new String(log.normalText(), StandardCharsets.US_ASCII));
        assertEquals("111 R02 RAS KERNEL INFO ok\n", new String(log.head(2).normalText(), StandardCharsets.US_ASCII));
    }

    @Test
    void rejectsLinesWithoutALabelAndEmptyFiles() {
        assertThrows(IOException.class, () -> LabelledLog.parseBgl("nolabel\n".getBytes(StandardCharsets.US_ASCII), "t"));
        assertThrows(IOException.class, () -> LabelledLog.parseBgl(" x\n".getBytes(StandardCharsets.US_ASCII), "t"));
        assertThrows(IOException.class, () -> LabelledLog.parseBgl("\r\n\n".getBytes(StandardCharsets.US_ASCII), "t"));
    }

    @Test
    void readsTheSharedBglSample() throws IOException {
        LabelledLog log = LabelledLog.readBgl(Shared.bgl());
        assertEquals(2000, log.size());
        assertEquals(143, log.anomalies());  // the lines whose first field is not '-'
        for (int i = 0; i < log.size(); i++) {
            byte[] t = log.text(i);
            assertTrue(t.length > 0 && t[t.length - 1] != '\r', "line " + (i + 1));
        }
    }
}
