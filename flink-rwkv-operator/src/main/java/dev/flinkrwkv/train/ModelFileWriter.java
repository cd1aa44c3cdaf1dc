package dev.flinkrwkv.train;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes trained parameters as an rwkv.cpp FP32 model file (format doc §1): the 24-byte header (magic,
 * version 101, vocabulary, embedding, layers, type 0), then each tensor as n_dims, name length, type code 0,
 * its ggml dimensions, the name and the float32 values, all little-endian with no padding. Trailing
 * dimensions of 1 are kept as the converter writes them (e.g. {@code w0} is (C, 1, 1)).
 *
 * <p>The file is written next to its destination and moved into place, so a reader never sees half a model.
 * Kept private to training until a shared model writer exists.
 */
final class ModelFileWriter {
    static final int MAGIC = 0x67676D66;
    static final int FILE_VERSION = 101;
    static final int TYPE_FP32 = 0;

    private ModelFileWriter() {}

    static void writeFp32(Rwkv7Params model, Path out) throws IOException {
        Rwkv7Shape sh = model.shape();
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
            ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(MAGIC).putInt(FILE_VERSION).putInt(sh.vocab()).putInt(sh.embed()).putInt(sh.layers())
                    .putInt(TYPE_FP32);
            for (ParamTensor t : model.tensors()) {
                byte[] name = t.name().getBytes(StandardCharsets.UTF_8);
                flushIfFull(b, os, 12 + 4 * t.ne().length + name.length);
                b.putInt(t.ne().length).putInt(name.length).putInt(TYPE_FP32);
                for (int d : t.ne()) {
                    b.putInt(d);
                }
                b.put(name);
                double[] v = model.values();
                for (int i = 0; i < t.size(); i++) {
                    flushIfFull(b, os, 4);
                    b.putFloat((float) v[t.offset() + i]);
                }
            }
            b.flip();
            os.write(b.array(), 0, b.limit());
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void flushIfFull(ByteBuffer b, OutputStream os, int need) throws IOException {
        if (b.remaining() < need) {
            b.flip();
            os.write(b.array(), 0, b.limit());
            b.clear();
        }
    }
}
