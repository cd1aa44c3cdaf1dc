package dev.flinkrwkv.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An rwkv.cpp model file: a 24-byte header (magic, file version, vocabulary, embedding size, layers, main
 * type) followed by tensor records until the end of the file, with no padding anywhere.
 *
 * <p>The tensor table is read eagerly and validated; tensor data is memory-mapped, one mapping per tensor
 * (a mapping is limited to 2 GiB, and no single tensor of a real RWKV model comes near that). Opening a
 * multi-gigabyte model therefore reads only the table, and every evaluator built on one {@code ModelFile}
 * shares the same pages of the OS page cache.
 *
 * <p>{@link #open} reads official PyTorch and safetensors checkpoints too, as the model their rwkv.cpp
 * conversion holds ({@link Checkpoint}); {@link #format()} says which the file was.
 */
public final class ModelFile {
    public static final int MAGIC = 0x67676D66; // "fmgg" on disk
    public static final int HEADER_BYTES = 24;
    private static final int MAX_DIMS = 3;
    private static final int MAX_NAME_BYTES = 4096;
    /**
     * More values than any real file holds (2^40, terabytes); only a corrupt record comes near, and the
     * bound keeps the product of three 31-bit dimensions, and its byte size, from overflowing a long.
     */
    private static final long MAX_ELEMENTS = 1L << 40;

    private final Path path;
    private final String format;
    private final int fileVersion;
    private final int vocab;
    private final int embed;
    private final int layers;
    private final int mainTypeCode;
    private final long size;
    private final Map<String, Tensor> tensors;
    private final String fingerprint;

    private ModelFile(Path path, String format, int fileVersion, int vocab, int embed, int layers, int mainTypeCode,
                      long size, Map<String, Tensor> tensors, String fingerprint) {
        this.path = path;
        this.format = format;
        this.fileVersion = fileVersion;
        this.vocab = vocab;
        this.embed = embed;
        this.layers = layers;
        this.mainTypeCode = mainTypeCode;
        this.size = size;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.fingerprint = fingerprint;
    }

    /**
     * Opens and validates a model file; throws {@link ModelFormatException} naming the file and the problem.
     * The reader is chosen by content (then by extension): an rwkv.cpp file, a PyTorch checkpoint (a zip
     * archive written by {@code torch.save}) or a safetensors file; a checkpoint becomes the model its
     * rwkv.cpp conversion would hold ({@link Checkpoint}).
     */
    public static ModelFile open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            throw new ModelFormatException(path, "is a directory, not a model file");
        }
        if (!Files.exists(path)) {
            throw new ModelFormatException(path, "does not exist", new NoSuchFileException(path.toString()));
        }
        FileChannel opened;
        try {
            opened = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new ModelFormatException(path, "cannot be read (" + e + ")", e);
        }
        try (FileChannel ch = opened) {
            long size = ch.size();
            if (size == 0) {
                throw new ModelFormatException(path, "is empty");
            }
            Checkpoint.Format checkpoint = Checkpoint.Format.detect(path, read(ch, 0, (int) Math.min(size, 16)));
            if (checkpoint != null) {
                return Checkpoint.read(path, ch, checkpoint);
            }
            if (size < HEADER_BYTES) {
                throw new ModelFormatException(path, "truncated header: " + size + " bytes, a header needs " + HEADER_BYTES);
            }
            MessageDigest digest = sha256();
            ByteBuffer header = read(ch, 0, HEADER_BYTES);
            digest.update(header.duplicate());
            int magic = header.getInt(0);
            if (magic != MAGIC) {
                throw new ModelFormatException(path, String.format(
                        "wrong magic 0x%08x, expected 0x%08x (\"fmgg\"): not an rwkv.cpp model file (nor a PyTorch "
                        + "or safetensors checkpoint)", magic, MAGIC));
            }
            int fileVersion = header.getInt(4);
            int vocab = header.getInt(8);
            int embed = header.getInt(12);
            int layers = header.getInt(16);
            int mainType = header.getInt(20);
            if (fileVersion != 100 && fileVersion != 101) {
                throw new ModelFormatException(path, "unsupported file version " + Integer.toUnsignedString(fileVersion)
                        + " (supported: 100, 101)");
            }
            if ((mainType < 0 || mainType >= 17 || (mainType >= 4 && mainType <= 6)) && mainType != TensorType.BF16.code) {
                throw new ModelFormatException(path, "unsupported main data type in header: "
                        + TensorType.whyUnsupported(mainType));
            }
            TensorType main = TensorType.ofCode(mainType);
            if (fileVersion == 100 && main != null && main.isQuantized()) {
                throw new ModelFormatException(path, "quantized file with version 100 uses the pre-2023 layout; re-quantize it");
            }
            if (vocab <= 0 || embed <= 0 || layers <= 0) {
                throw new ModelFormatException(path, "invalid dimensions in header: vocab " + vocab + ", embed " + embed
                        + ", layers " + layers);
            }

            Map<String, Tensor> tensors = new LinkedHashMap<>();
            long pos = HEADER_BYTES;
            while (pos < size) {
                pos = readTensor(path, ch, pos, size, tensors, digest);
            }
            String fp = HexFormat.of().formatHex(digest.digest());
            return new ModelFile(path, "rwkv.cpp", fileVersion, vocab, embed, layers, mainType, size, tensors, fp);
        }
    }

    /**
     * A model assembled in memory from tensors (a checkpoint converted at load), described as the rwkv.cpp
     * file those tensors would make: file version 101, and the fingerprint of that file's header and table,
     * so a checkpoint and its conversion with the same storage types share a fingerprint.
     */
    static ModelFile assembled(Path path, String format, long size, int vocab, int embed, int layers, int mainTypeCode,
                               java.util.List<Tensor> tensors) throws ModelFormatException {
        MessageDigest digest = sha256();
        digest.update(ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(MAGIC).putInt(101)
                .putInt(vocab).putInt(embed).putInt(layers).putInt(mainTypeCode).flip());
        Map<String, Tensor> byName = new LinkedHashMap<>();
        for (Tensor t : tensors) {
            if (byName.put(t.name(), t) != null) {
                throw new ModelFormatException(path, "duplicated tensor name '" + t.name() + "'");
            }
            byte[] key = t.name().getBytes(StandardCharsets.UTF_8);
            ByteBuffer record = ByteBuffer.allocate(12 + 4 * t.dims() + key.length).order(ByteOrder.LITTLE_ENDIAN);
            record.putInt(t.dims()).putInt(key.length).putInt(t.type().code);
            for (int d : t.shape()) {
                record.putInt(d);
            }
            digest.update(record.put(key).flip());
        }
        String fp = HexFormat.of().formatHex(digest.digest());
        return new ModelFile(path, format, 101, vocab, embed, layers, mainTypeCode, size, byName, fp);
    }

    private static long readTensor(Path path, FileChannel ch, long pos, long size, Map<String, Tensor> out,
                                   MessageDigest digest) throws IOException {
        long recordStart = pos;
        if (size - pos < 12) {
            throw new ModelFormatException(path, "truncated tensor header at byte " + pos);
        }
        ByteBuffer fixed = read(ch, pos, 12);
        int nDims = fixed.getInt(0);
        int keyLen = fixed.getInt(4);
        int typeCode = fixed.getInt(8);
        pos += 12;
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw new ModelFormatException(path, "tensor at byte " + recordStart + " has " + Integer.toUnsignedString(nDims)
                    + " dimensions (1 to 3 allowed)");
        }
        if (keyLen <= 0 || keyLen > MAX_NAME_BYTES) {
            throw new ModelFormatException(path, "tensor at byte " + recordStart + " has an invalid name length "
                    + Integer.toUnsignedString(keyLen));
        }
        if (size - pos < 4L * nDims + keyLen) {
            throw new ModelFormatException(path, "truncated tensor header at byte " + recordStart);
        }
        ByteBuffer rest = read(ch, pos, 4 * nDims + keyLen);
        pos += 4L * nDims + keyLen;
        int[] ne = new int[nDims];
        for (int i = 0; i < nDims; i++) {
            ne[i] = rest.getInt(4 * i);
            if (ne[i] <= 0) {
                throw new ModelFormatException(path, "tensor at byte " + recordStart + " has dimension " + i + " = "
                        + Integer.toUnsignedString(ne[i]));
            }
        }
        byte[] nameBytes = new byte[keyLen];
        rest.get(4 * nDims, nameBytes);
        String name;
        try {
            name = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(nameBytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(path, "tensor at byte " + recordStart + " has a name that is not UTF-8");
        }
        TensorType type = TensorType.ofCode(typeCode);
        if (type == null) {
            throw new ModelFormatException(path, "tensor '" + name + "': " + TensorType.whyUnsupported(typeCode));
        }
        if (type.isQuantized() && ne[0] % type.blockElements != 0) {
            throw new ModelFormatException(path, "tensor '" + name + "' is " + type + " but its rows of " + ne[0]
                    + " values are not a multiple of " + type.blockElements);
        }
        long elements = 1;
        for (int d : ne) {
            if (elements > MAX_ELEMENTS / d) {
                throw new ModelFormatException(path, "tensor '" + name + "' is too large: dimensions "
                        + java.util.Arrays.toString(ne));
            }
            elements *= d;
        }
        if (out.containsKey(name)) {
            throw new ModelFormatException(path, "duplicated tensor name '" + name + "'");
        }
        long nbytes = type.bytesFor(elements);
        if (size - pos < nbytes) {
            throw new ModelFormatException(path, "truncated tensor '" + name + "': needs " + nbytes + " bytes of data, "
                    + (size - pos) + " left in the file");
        }
        if (nbytes > Integer.MAX_VALUE) {
            throw new ModelFormatException(path, "tensor '" + name + "' is over 2 GiB, which this reader cannot map");
        }
        digest.update(fixed.duplicate());
        digest.update(rest.duplicate());
        ByteBuffer data = ch.map(FileChannel.MapMode.READ_ONLY, pos, nbytes).order(ByteOrder.LITTLE_ENDIAN);
        out.put(name, new Tensor(name, type, ne, data));
        return pos + nbytes;
    }

    private static ByteBuffer read(FileChannel ch, long pos, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                throw new IOException("unexpected end of file");
            }
        }
        return b.flip();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Path path() {
        return path;
    }

    /** What the file is: {@code rwkv.cpp}, {@code PyTorch checkpoint} or {@code safetensors}. */
    public String format() {
        return format;
    }

    /** The rwkv.cpp file format version: 100 or 101 (101 for a checkpoint: what its conversion writes). */
    public int fileVersion() {
        return fileVersion;
    }

    public int vocab() {
        return vocab;
    }

    public int embed() {
        return embed;
    }

    public int layers() {
        return layers;
    }

    /** The header's "main" type code (informational: each tensor carries its own type). */
    public int mainTypeCode() {
        return mainTypeCode;
    }

    public long size() {
        return size;
    }

    /** Tensors in file order. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The tensor of that name; a {@link ModelFormatException} if the file has none. */
    public Tensor tensor(String name) throws ModelFormatException {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(path, "missing tensor '" + name + "'");
        }
        return t;
    }

    /**
     * SHA-256 over the header and the tensor table (names, types, shapes), hex. Identifies the model's
     * architecture and layout cheaply, without hashing gigabytes of weights; two quantizations of one model
     * differ here since their type codes differ.
     */
    public String fingerprint() {
        return fingerprint;
    }

    /** Detects the RWKV version from the tensors present, as rwkv.cpp does. */
    public RwkvVersion detectVersion() {
        return RwkvVersion.detect(this::has);
    }
}
