package dev.flinkrwkv.model;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes an rwkv.cpp model file: the 24-byte header, then one record per tensor (n_dims, name length,
 * type code, ne[0..n_dims-1], name, data), exactly the layout {@link ModelFile} reads, with no padding.
 *
 * <p>Tensor data is streamed through one reusable buffer, a row at a time when it comes from a
 * {@link RowEncoder}, so a multi-gigabyte model is written without ever being held in memory.
 *
 * <p>The file appears atomically: records go to a temporary file next to the target, which {@link #finish()}
 * moves into place. Closing without {@code finish()} (an exception while writing) deletes the temporary
 * file, so a reader never sees half a model under the target name. (A process killed while writing
 * leaves its hidden {@code .NAME*.partial} file behind.)
 */
public final class ModelWriter implements Closeable {
    /** Produces the bytes of one row of a tensor. */
    @FunctionalInterface
    public interface RowEncoder {
        /**
         * Writes row {@code row} (the row's byte size: {@code type.bytesFor(ne0)}) into {@code out}, a
         * little-endian buffer whose position 0 is the row's first byte; absolute or relative puts both work.
         */
        void encode(int row, ByteBuffer out) throws IOException;
    }

    /** One tensor to write whose bytes are all at hand. */
    public record Record(String name, TensorType type, int[] ne, ByteBuffer data) {}

    private static final int BUFFER_BYTES = 1 << 20;
    private static final int MAX_DIMS = 3;
    private static final int MAX_NAME_BYTES = 4096;

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final Set<String> names = new HashSet<>();
    private ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private long written; // bytes handed to the channel
    private boolean finished;
    private boolean closed;

    private ModelWriter(Path target, Path temp, FileChannel channel) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
    }

    /**
     * Starts a model file at {@code path} with this header; {@code mainTypeCode} is the header's
     * informational type (rwkv.cpp writes the type its converter or quantizer targeted).
     */
    public static ModelWriter create(Path path, int fileVersion, int vocab, int embed, int layers, int mainTypeCode)
            throws IOException {
        Path abs = path.toAbsolutePath();
        Path dir = abs.getParent();
        if (Files.isDirectory(abs)) {
            throw new IOException(path + " is a directory");
        }
        if (dir != null && !Files.isDirectory(dir)) {
            throw new IOException("cannot write " + path + ": directory " + dir + " does not exist");
        }
        Path temp;
        FileChannel ch;
        try {
            // Not Files.createTempFile: that makes the file owner-only (0600), and a model must stay readable
            // by whoever reads models (a cluster's user), as any file the user's umask allows.
            temp = null;
            for (int attempt = 0; temp == null; attempt++) {
                long id = java.util.concurrent.ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE;
                Path candidate = dir.resolve("." + abs.getFileName() + "." + Long.toHexString(id) + ".partial");
                try {
                    Files.createFile(candidate);
                    temp = candidate;
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    if (attempt > 100) {
                        throw e;
                    }
                }
            }
            ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new IOException("cannot write " + path + " (" + e + ")", e);
        }
        ModelWriter w = new ModelWriter(path, temp, ch);
        w.buffer.putInt(ModelFile.MAGIC).putInt(fileVersion).putInt(vocab).putInt(embed).putInt(layers)
                .putInt(mainTypeCode);
        return w;
    }

    /** Writes a whole file at once: the header, then the records in order. */
    public static void write(Path path, int fileVersion, int vocab, int embed, int layers, int mainTypeCode,
                             List<Record> records) throws IOException {
        try (ModelWriter w = create(path, fileVersion, vocab, embed, layers, mainTypeCode)) {
            for (Record r : records) {
                w.write(r.name(), r.type(), r.ne(), r.data());
            }
            w.finish();
        }
    }

    /**
     * Appends a tensor whose bytes are the remaining bytes of {@code data} (which must be exactly the
     * tensor's size). Returns the byte offset of the record in the file.
     */
    public long write(String name, TensorType type, int[] ne, ByteBuffer data) throws IOException {
        ByteBuffer src = data.duplicate();
        long expected = type.bytesFor(elements(ne));
        if (src.remaining() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "' of type " + type + " and shape "
                    + java.util.Arrays.toString(ne) + " needs " + expected + " bytes, got " + src.remaining());
        }
        long at = recordHeader(name, type, ne);
        while (src.hasRemaining()) {
            if (!buffer.hasRemaining()) {
                flush();
            }
            int n = Math.min(buffer.remaining(), src.remaining());
            ByteBuffer part = src.slice(src.position(), n);
            buffer.put(part);
            src.position(src.position() + n);
        }
        return at;
    }

    /** Appends a tensor whose rows {@code rows} encodes one at a time. Returns the record's byte offset. */
    public long write(String name, TensorType type, int[] ne, RowEncoder rows) throws IOException {
        long at = recordHeader(name, type, ne);
        long elements = elements(ne);
        int rowBytes = Math.toIntExact(type.bytesFor(ne[0]));
        long rowCount = elements / ne[0];
        if (rowBytes > buffer.capacity()) {
            flush();
            buffer = ByteBuffer.allocateDirect(rowBytes).order(ByteOrder.LITTLE_ENDIAN);
        }
        for (long r = 0; r < rowCount; r++) {
            if (buffer.remaining() < rowBytes) {
                flush();
            }
            int p = buffer.position();
            rows.encode((int) r, buffer.slice(p, rowBytes).order(ByteOrder.LITTLE_ENDIAN));
            buffer.position(p + rowBytes);
        }
        return at;
    }

    /** Copies a tensor of another file unchanged. */
    public long write(Tensor t) throws IOException {
        return write(t.name(), t.type(), t.shape(), t.data());
    }

    /** Checks a record's header fields and buffers them; returns the record's offset in the file. */
    private long recordHeader(String name, TensorType type, int[] ne) throws IOException {
        ensureOpen();
        byte[] key = name.getBytes(StandardCharsets.UTF_8);
        if (key.length == 0 || key.length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name '" + name + "' must have 1 to " + MAX_NAME_BYTES + " bytes");
        }
        if (ne.length < 1 || ne.length > MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + ne.length + " dimensions (1 to 3 allowed)");
        }
        for (int d : ne) {
            if (d <= 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a dimension " + d);
            }
        }
        if (ne[0] % type.blockElements != 0) {
            throw new IllegalArgumentException("tensor '" + name + "' cannot be " + type + ": its rows of " + ne[0]
                    + " values are not a multiple of " + type.blockElements);
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' is written twice");
        }
        int headerBytes = 12 + 4 * ne.length + key.length;
        if (buffer.remaining() < headerBytes) {
            flush();
        }
        long at = written + buffer.position();
        buffer.putInt(ne.length).putInt(key.length).putInt(type.code);
        for (int d : ne) {
            buffer.putInt(d);
        }
        buffer.put(key);
        return at;
    }

    private static long elements(int[] ne) {
        long n = 1;
        for (int d : ne) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private void flush() throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            written += channel.write(buffer);
        }
        buffer.clear();
    }

    private void ensureOpen() {
        if (finished || closed) {
            throw new IllegalStateException("model writer for " + target + " is already " + (finished ? "finished" : "closed"));
        }
    }

    /** Bytes written so far, header included. */
    public long size() {
        return written + buffer.position();
    }

    /**
     * Writes out what is buffered and moves the file to its name; the file is complete from then on. (No
     * fsync: the OS writes the pages back in its own time, which keeps writing a large model fast.)
     */
    public void finish() throws IOException {
        ensureOpen();
        flush();
        channel.close();
        try {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        finished = true;
    }

    /** Releases the file; without a prior {@link #finish()} the partial file is deleted. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (!finished) {
            try {
                channel.close();
            } finally {
                Files.deleteIfExists(temp);
            }
        }
    }
}
