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

    @Test
    void firstWordsThatAreNotBglLabelsAreRefused() {
        // A syslog: every line's first word would be a label, so every line an anomaly.
        String syslog = "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown\n"
                + "Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown\n";
        IOException e = assertThrows(IOException.class, () -> LabelledLog.parseBgl(syslog.getBytes(StandardCharsets.US_ASCII), "syslog"));
        assertTrue(e.getMessage().contains("no line starts with '-'") && e.getMessage().contains("--labels"), e.getMessage());
        // Mostly "anomalous".
        String most = "- a\nX b\nY c\n";
        e = assertThrows(IOException.class, () -> LabelledLog.parseBgl(most.getBytes(StandardCharsets.US_ASCII), "m"));
        assertTrue(e.getMessage().contains("2 of 3 lines would be anomalous"), e.getMessage());
        // Many distinct labels: timestamps or hosts, not alert categories.
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            many.append("- normal\n").append("host").append(i).append(" text\n").append("- normal\n");
        }
        e = assertThrows(IOException.class, () -> LabelledLog.parseBgl(many.toString().getBytes(StandardCharsets.US_ASCII), "h"));
        assertTrue(e.getMessage().contains("200 distinct labels"), e.getMessage());
    }

    @Test
    void aFileWhoseLabelsAreKnownToBeRightIsReadAtAnyAnomalyRate(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws IOException {
        java.nio.file.Path f = dir.resolve("demo-stream.log");
        java.nio.file.Files.writeString(f, "- a\nBURST b\nBURST c\n");  // the demo's stream at a high --anomaly-rate
        assertThrows(IOException.class, () -> LabelledLog.readBgl(f));
        assertEquals(2, LabelledLog.readBglTrusted(f).anomalies());
    }

    @Test
    void patternAndLabelFileLabelWholeLines(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws IOException {
        java.nio.file.Path f = dir.resolve("app.log");
        java.nio.file.Files.writeString(f, "a ok\r\nb ERROR x\n\nc ok\n");
        LabelledLog m = LabelledLog.readMatching(f, java.util.regex.Pattern.compile("ERROR"));
        assertEquals(3, m.size());
        assertTrue(m.labelled() && m.anomalous(1) && !m.anomalous(0) && !m.anomalous(2));
        assertEquals("b ERROR x", new String(m.text(1), StandardCharsets.US_ASCII));
        java.nio.file.Path labels = dir.resolve("labels");
        java.nio.file.Files.writeString(labels, "1\n0\n0\n0\n");  // the empty third line's label goes with it
        LabelledLog l = LabelledLog.readWithLabelFile(f, labels);
        assertTrue(l.anomalous(0) && !l.anomalous(1) && !l.anomalous(2));
        assertEquals("a ok", new String(l.text(0), StandardCharsets.US_ASCII));
        LabelledLog u = LabelledLog.readUnlabelled(f);
        assertFalse(u.labelled());
        assertEquals(0, u.anomalies());
    }
}
