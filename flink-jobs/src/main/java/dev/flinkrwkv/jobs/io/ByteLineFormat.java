package dev.flinkrwkv.jobs.io;

import dev.flinkrwkv.jobs.format.RawRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.reader.SimpleStreamFormat;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.fs.FSDataInputStream;

import java.io.IOException;
import java.util.Arrays;

/**
 * Reads a file as lines of raw bytes (split at LF; the LF is dropped, a CR before it is kept for the
 * parser to strip), each a {@link RawRecord} with the line number from 1. Unlike Flink's text line format it
 * does not decode, so invalid UTF-8 reaches the parser and becomes a dead letter. A line longer than
 * {@code maxBytes} is kept only up to {@code maxBytes + 1} bytes (enough to be rejected as too long; the
 * record notes its real length for the dead letter) while the rest is skipped, so one huge line cannot
 * exhaust memory.
 *
 * <p>Files are read whole by one reader (not split), and on recovery Flink re-reads the file and skips the
 * records already emitted, so line numbers stay right.
 */
public final class ByteLineFormat extends SimpleStreamFormat<RawRecord> {
    private static final long serialVersionUID = 1L;
    private final String sourceName;
    private final int maxBytes;

    public ByteLineFormat(String sourceName, int maxBytes) {
        this.sourceName = sourceName;
        this.maxBytes = maxBytes;
    }

    @Override
    public StreamFormat.Reader<RawRecord> createReader(Configuration config, FSDataInputStream stream) {
        return new Reader(stream);
    }

    @Override
    public TypeInformation<RawRecord> getProducedType() {
        return TypeInformation.of(RawRecord.class);
    }

    private final class Reader implements StreamFormat.Reader<RawRecord> {
        private final FSDataInputStream in;
        private final byte[] buf = new byte[8192];
        private int pos;
        private int limit;
        private long lineNo;
        private boolean eof;

        Reader(FSDataInputStream in) {
            this.in = in;
        }

        @Override
        public RawRecord read() throws IOException {
            if (eof && pos >= limit) {
                return null;
            }
            int cap = (int) Math.min((long) maxBytes + 1, Integer.MAX_VALUE - 8);
            byte[] line = new byte[Math.min(cap, 256)];
            int len = 0;
            long size = 0;  // the line's real length; only the first cap bytes are kept
            boolean sawAny = false;
            while (true) {
                if (pos >= limit) {
                    limit = in.read(buf, 0, buf.length);
                    pos = 0;
                    if (limit <= 0) {
                        limit = 0;
                        eof = true;
                        if (!sawAny) {
                            return null;
                        }
                        break;
                    }
                }
                sawAny = true;
                byte b = buf[pos++];
                if (b == '\n') {
                    break;
                }
                size++;
                if (len < cap) {
                    if (len == line.length) {
                        line = Arrays.copyOf(line, (int) Math.min((long) line.length * 2, cap));
                    }
                    line[len++] = b;
                }
            }
            lineNo++;
            return new RawRecord(sourceName, -1, lineNo, Arrays.copyOf(line, len), size);
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
