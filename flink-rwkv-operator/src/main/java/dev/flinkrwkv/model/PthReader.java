package dev.flinkrwkv.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the tensors of a PyTorch checkpoint written by {@code torch.save} (PyTorch 1.6 and later): a zip
 * archive whose entries {@code <name>/data.pkl} (the pickled state dict), {@code <name>/data/<key>} (one
 * per storage) and {@code <name>/version} are stored uncompressed.
 *
 * <p>The zip's central directory is read here (ZIP64 included, which {@code torch.save} always writes); each
 * storage's bytes are then memory-mapped where they lie in the archive, never copied. The pickle is read by
 * {@link TorchUnpickler}, which accepts only what a state dict of tensors needs.
 */
final class PthReader {
    private static final int LOCAL_HEADER = 0x04034b50;
    private static final int CENTRAL_HEADER = 0x02014b50;
    private static final int END_OF_DIRECTORY = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_END = 0x06064b50;
    /** A central directory or pickle larger than this is no state dict of an RWKV model. */
    private static final long MAX_METADATA = 256L << 20;

    /** One archive entry: where its (stored) bytes are. */
    private record Entry(String name, int method, long size, long localHeader) {}

    private final Path path;
    private final FileChannel ch;
    private final long fileSize;

    private PthReader(Path path, FileChannel ch) throws IOException {
        this.path = path;
        this.ch = ch;
        this.fileSize = ch.size();
    }

    /** The checkpoint's tensors, in the state dict's order. */
    static List<CheckpointTensor> read(Path path, FileChannel ch) throws IOException {
        return new PthReader(path, ch).read();
    }

    private ModelFormatException fail(String problem) {
        return new ModelFormatException(path, problem);
    }

    private List<CheckpointTensor> read() throws IOException {
        if (fileSize < 4 || readBytes(0, 4).getInt(0) != LOCAL_HEADER) {
            throw fail("not a zip archive, so not a PyTorch checkpoint (torch.save has written zip archives since "
                    + "PyTorch 1.6; re-save an older checkpoint with a current PyTorch)");
        }
        Map<String, Entry> entries = directory();
        Entry pkl = null;
        for (Entry e : entries.values()) {
            if (e.name().endsWith("/data.pkl") && e.name().indexOf('/') == e.name().length() - "/data.pkl".length()) {
                if (pkl != null) {
                    throw fail("the archive holds two pickles (" + pkl.name() + ", " + e.name() + ")");
                }
                pkl = e;
            }
        }
        if (pkl == null) {
            throw fail("a zip archive without a <name>/data.pkl entry: not a PyTorch checkpoint");
        }
        String prefix = pkl.name().substring(0, pkl.name().length() - "data.pkl".length());
        Entry order = entries.get(prefix + "byteorder");
        if (order != null) {
            String s = StandardCharsets.US_ASCII.decode(data(order)).toString().trim();
            if (!s.equals("little")) {
                throw fail("the checkpoint was saved with byte order '" + s + "'; only little-endian is read");
            }
        }
        if (pkl.size() > MAX_METADATA) {
            throw fail(pkl.name() + " is " + pkl.size() + " bytes, too large for a state dict");
        }
        Object root = TorchUnpickler.load(path, pkl.name(), data(pkl));
        if (!(root instanceof Map<?, ?> dict)) {
            throw fail(pkl.name() + " holds a " + (root == null ? "None" : root.getClass().getSimpleName())
                    + ", not a state dict (a dict of tensors)");
        }
        Map<String, ByteBuffer> storages = new HashMap<>();
        List<CheckpointTensor> out = new ArrayList<>();
        for (Map.Entry<?, ?> kv : dict.entrySet()) {
            if (!(kv.getKey() instanceof String name)) {
                throw fail("the state dict has a key that is not a string: " + kv.getKey());
            }
            if (!(kv.getValue() instanceof TorchUnpickler.TensorRef t)) {
                throw fail("state dict entry '" + name + "' is not a tensor");
            }
            out.add(tensor(name, t, prefix, entries, storages));
        }
        return out;
    }

    private CheckpointTensor tensor(String name, TorchUnpickler.TensorRef t, String prefix, Map<String, Entry> entries,
                                    Map<String, ByteBuffer> storages) throws IOException {
        TorchUnpickler.StorageType st = t.storage().type();
        if (st.dtype() == null) {
            throw fail("tensor '" + name + "' has dtype " + st.dtypeName() + "; supported: float32, float16, bfloat16");
        }
        if (t.size().length != t.stride().length) {
            throw fail("tensor '" + name + "' has " + t.size().length + " sizes but " + t.stride().length + " strides");
        }
        try {
            return tensor(name, t, st.dtype(), prefix, entries, storages);
        } catch (ArithmeticException e) {
            throw fail("tensor '" + name + "' has sizes too large for any file: " + java.util.Arrays.toString(t.size()));
        }
    }

    private CheckpointTensor tensor(String name, TorchUnpickler.TensorRef t, CheckpointTensor.Dtype dtype, String prefix,
                                    Map<String, Entry> entries, Map<String, ByteBuffer> storages) throws IOException {
        int es = dtype.bytes;
        long elements = 1;
        long expectedStride = 1;
        for (int i = t.size().length - 1; i >= 0; i--) {
            long d = t.size()[i];
            if (d > 1 && t.stride()[i] != expectedStride) {
                throw fail("tensor '" + name + "' is not contiguous (size " + java.util.Arrays.toString(t.size())
                        + ", stride " + java.util.Arrays.toString(t.stride()) + "); save it after .contiguous()");
            }
            expectedStride = Math.multiplyExact(expectedStride, d);
            elements = Math.multiplyExact(elements, d);
        }
        long storageBytes = Math.multiplyExact(t.storage().elements(), es);
        String key = t.storage().key();
        ByteBuffer storage = storages.get(key);
        if (storage == null) {
            Entry e = entries.get(prefix + "data/" + key);
            if (e == null) {
                throw fail("tensor '" + name + "': its storage " + prefix + "data/" + key + " is missing from the archive");
            }
            if (e.size() < storageBytes) {
                throw fail("storage " + e.name() + " has " + e.size() + " bytes, its header says "
                        + t.storage().elements() + " values of " + es + " bytes");
            }
            storage = data(e);
            storages.put(key, storage);
        }
        long from = Math.multiplyExact(t.offset(), es);
        long bytes = Math.multiplyExact(elements, es);
        if (t.offset() < 0 || Math.addExact(from, bytes) > storageBytes) {
            throw fail("tensor '" + name + "' reaches past the end of its storage");
        }
        ByteBuffer data = storage.slice((int) from, (int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        return new CheckpointTensor(name, dtype, t.size().clone(), data);
    }

    /** The stored bytes of an entry, memory-mapped. */
    private ByteBuffer data(Entry e) throws IOException {
        if (e.method() != 0) {
            throw fail("entry " + e.name() + " is compressed (method " + e.method() + "); torch.save stores "
                    + "entries uncompressed, re-save the checkpoint with torch.save");
        }
        if (e.localHeader() > fileSize - 30) {
            throw fail("entry " + e.name() + " starts past the end of the file (truncated)");
        }
        ByteBuffer h = readBytes(e.localHeader(), 30);
        if (h.getInt(0) != LOCAL_HEADER) {
            throw fail("entry " + e.name() + " has no local header where the directory says (corrupt zip)");
        }
        long start = e.localHeader() + 30 + (h.getShort(26) & 0xFFFF) + (h.getShort(28) & 0xFFFF);
        if (start + e.size() > fileSize) {
            throw fail("entry " + e.name() + " needs " + e.size() + " bytes at byte " + start + ", past the end of the "
                    + fileSize + "-byte file (truncated)");
        }
        if (e.size() > Integer.MAX_VALUE) {
            throw fail("entry " + e.name() + " is over 2 GiB, which this reader cannot map");
        }
        return ch.map(FileChannel.MapMode.READ_ONLY, start, e.size()).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The central directory's entries by name. */
    private Map<String, Entry> directory() throws IOException {
        int tail = (int) Math.min(fileSize, 22 + 65535);
        ByteBuffer end = readBytes(fileSize - tail, tail);
        int eocd = -1;
        for (int i = tail - 22; i >= 0; i--) {
            if (end.getInt(i) == END_OF_DIRECTORY) {
                eocd = i;
                break;
            }
        }
        if (eocd < 0) {
            throw fail("a zip archive without its central directory: truncated or corrupt");
        }
        long count = end.getShort(eocd + 10) & 0xFFFF;
        long cdSize = end.getInt(eocd + 12) & 0xFFFFFFFFL;
        long cdOffset = end.getInt(eocd + 16) & 0xFFFFFFFFL;
        long eocdAt = fileSize - tail + eocd;
        if (eocdAt >= 20) {
            ByteBuffer loc = readBytes(eocdAt - 20, 20);
            if (loc.getInt(0) == ZIP64_LOCATOR) {
                long at = loc.getLong(8);
                if (at < 0 || at > fileSize - 56) {
                    throw fail("the ZIP64 directory record lies outside the file (truncated or corrupt)");
                }
                ByteBuffer z = readBytes(at, 56);
                if (z.getInt(0) != ZIP64_END) {
                    throw fail("no ZIP64 directory record where the locator says (corrupt zip)");
                }
                count = z.getLong(32);
                cdSize = z.getLong(40);
                cdOffset = z.getLong(48);
            }
        }
        if (cdSize > MAX_METADATA || cdOffset < 0 || cdSize < 0 || cdOffset + cdSize > fileSize) {
            throw fail("the zip's central directory (" + cdSize + " bytes at " + cdOffset + ") lies outside the "
                    + fileSize + "-byte file: truncated or corrupt");
        }
        ByteBuffer cd = readBytes(cdOffset, (int) cdSize);
        Map<String, Entry> out = new LinkedHashMap<>();
        int p = 0;
        for (long n = 0; n < count; n++) {
            if (p + 46 > cd.limit() || cd.getInt(p) != CENTRAL_HEADER) {
                throw fail("corrupt zip central directory (entry " + n + ")");
            }
            int method = cd.getShort(p + 10) & 0xFFFF;
            long size = cd.getInt(p + 24) & 0xFFFFFFFFL;
            long compressed = cd.getInt(p + 20) & 0xFFFFFFFFL;
            int nameLen = cd.getShort(p + 28) & 0xFFFF;
            int extraLen = cd.getShort(p + 30) & 0xFFFF;
            int commentLen = cd.getShort(p + 32) & 0xFFFF;
            long local = cd.getInt(p + 42) & 0xFFFFFFFFL;
            if (p + 46 + nameLen + extraLen + commentLen > cd.limit()) {
                throw fail("corrupt zip central directory (entry " + n + ")");
            }
            byte[] nb = new byte[nameLen];
            cd.get(p + 46, nb);
            String name = new String(nb, StandardCharsets.UTF_8);
            // ZIP64 extra field: the 64-bit values of the fields set to 0xFFFFFFFF, in this order.
            int x = p + 46 + nameLen;
            int xEnd = x + extraLen;
            while (x + 4 <= xEnd) {
                int id = cd.getShort(x) & 0xFFFF;
                int len = cd.getShort(x + 2) & 0xFFFF;
                if (id == 1) {
                    int q = x + 4;
                    if (size == 0xFFFFFFFFL && q + 8 <= xEnd) {
                        size = cd.getLong(q);
                        q += 8;
                    }
                    if (compressed == 0xFFFFFFFFL && q + 8 <= xEnd) {
                        compressed = cd.getLong(q);
                        q += 8;
                    }
                    if (local == 0xFFFFFFFFL && q + 8 <= xEnd) {
                        local = cd.getLong(q);
                    }
                }
                x += 4 + len;
            }
            if (method == 0 && compressed != size) {
                throw fail("entry " + name + " is stored with two different sizes (corrupt zip)");
            }
            out.put(name, new Entry(name, method, size, local));
            p += 46 + nameLen + extraLen + commentLen;
        }
        return out;
    }

    private ByteBuffer readBytes(long pos, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                throw fail("unexpected end of file at byte " + (pos + b.position()) + " (truncated)");
            }
        }
        return b.flip();
    }
}
