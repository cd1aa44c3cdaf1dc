package dev.flinkrwkv.jobs.io;

import dev.flinkrwkv.jobs.format.RawRecord;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.fs.local.LocalDataInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ByteLineFormatTest {
    @Test
    void linesAsExactBytesNumberedFromOneWithHugeLinesCut(@TempDir Path tmp) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write("abc\r\n".getBytes(StandardCharsets.US_ASCII));
        b.write("x".repeat(100_000).getBytes(StandardCharsets.US_ASCII));
        b.write('\n');
        b.write('\n');
        b.write(new byte[] {(byte) 0xFF, 'z', '\n'});
        b.write("last".getBytes(StandardCharsets.US_ASCII));   // no line end
        Path f = tmp.resolve("in.log");
        Files.write(f, b.toByteArray());

        List<RawRecord> records = new ArrayList<>();
        try (StreamFormat.Reader<RawRecord> r = new ByteLineFormat("in.log", 16)
                .createReader(new Configuration(), new LocalDataInputStream(f.toFile()))) {
            for (RawRecord rec; (rec = r.read()) != null; ) {
                records.add(rec);
            }
        }
        assertEquals(5, records.size());
        assertArrayEquals("abc\r".getBytes(StandardCharsets.US_ASCII), records.get(0).value);
        assertEquals(17, records.get(1).value.length);  // max + 1: enough to be rejected as too long
        assertEquals(100_000, records.get(1).size());    // the real length, for the dead letter
        assertEquals("100000 bytes, over the maximum of 16 (--max-bytes)", dev.flinkrwkv.jobs.format.RecordParser.lines()
                .maxBytes(16).parse(records.get(1)).deadLetter().message);
        assertEquals(4, records.get(0).size());
        assertEquals(0, records.get(2).value.length);
        assertArrayEquals(new byte[] {(byte) 0xFF, 'z'}, records.get(3).value);
        assertArrayEquals("last".getBytes(StandardCharsets.US_ASCII), records.get(4).value);
        for (int i = 0; i < 5; i++) {
            assertEquals(i + 1, records.get(i).offset);
            assertEquals(-1, records.get(i).partition);
            assertEquals("in.log", records.get(i).source);
        }
    }
}
