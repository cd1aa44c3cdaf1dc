package dev.flinkrwkv.bench;

import dev.flinkrwkv.model.Half;
import dev.flinkrwkv.model.TensorType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A stop-gap, test-only writer of realistically shaped rwkv.cpp files with random weights, for speed
 * measurements before the product's {@code init-model} command exists (it replaces this). Only the
 * shapes matter: a 169M-shaped v4 and a 0.1B-shaped v7. As rwkv.cpp does, a quantized file quantizes
 * the per-layer projection matrices and keeps the embedding, head and low-rank matrices in FP16.
 *
 * <p>{@code java -cp target/classes:target/test-classes dev.flinkrwkv.bench.ShapedModelFiles OUT_DIR}
 */
public final class ShapedModelFiles implements AutoCloseable {
    private final FileChannel out;
    private final TensorType type;
    private long seed;

    private ShapedModelFiles(FileChannel out, TensorType type, long seed) {
        this.out = out;
        this.type = type;
        this.seed = seed;
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        for (TensorType t : new TensorType[] {TensorType.FP32, TensorType.FP16, TensorType.Q8_0}) {
            v4(dir.resolve("shaped-v4-169M-" + t + ".bin"), t);
            v7(dir.resolve("shaped-v7-0.1B-" + t + ".bin"), t);
        }
    }

    static void v4(Path file, TensorType type) throws IOException {
        int c = 768, layers = 12, vocab = 50277, f = 4 * c;
        try (ShapedModelFiles w = open(file, type, vocab, c, layers)) {
            w.matrix("emb.weight", c, vocab, false);
            w.vector("blocks.0.ln0.weight", c, 1f, 0f);
            w.vector("blocks.0.ln0.bias", c, 0f, 0f);
            for (int i = 0; i < layers; i++) {
                String p = "blocks." + i + ".";
                w.layerNorms(p, c);
                for (String v : new String[] {"time_mix_k", "time_mix_v", "time_mix_r", "time_first"}) {
                    w.vector(p + "att." + v, c, 0.5f, 0.3f);
                }
                w.vector(p + "att.time_decay", c, -1f, 0.5f);
                for (String m : new String[] {"key", "value", "receptance", "output"}) {
                    w.matrix(p + "att." + m + ".weight", c, c, true);
                }
                w.vector(p + "ffn.time_mix_k", c, 0.5f, 0.3f);
                w.vector(p + "ffn.time_mix_r", c, 0.5f, 0.3f);
                w.matrix(p + "ffn.key.weight", c, f, true);
                w.matrix(p + "ffn.value.weight", f, c, true);
                w.matrix(p + "ffn.receptance.weight", c, c, true);
            }
            w.vector("ln_out.weight", c, 1f, 0f);
            w.vector("ln_out.bias", c, 0f, 0f);
            w.matrix("head.weight", c, vocab, false);
        }
    }

    static void v7(Path file, TensorType type) throws IOException {
        int c = 768, layers = 12, vocab = 65536, f = 4 * c, headSize = 64;
        int dw = 64, da = 64, dv = 32, dg = 128;
        try (ShapedModelFiles w = open(file, type, vocab, c, layers)) {
            w.matrix("emb.weight", c, vocab, false);
            w.vector("blocks.0.ln0.weight", c, 1f, 0f);
            w.vector("blocks.0.ln0.bias", c, 0f, 0f);
            for (int i = 0; i < layers; i++) {
                String p = "blocks." + i + ".";
                w.layerNorms(p, c);
                w.vector(p + "att.x_rwkvag", 6 * c, 0.5f, 0.3f);
                for (String v : new String[] {"w0", "a0", "k_k", "k_a"}) {
                    w.vector(p + "att." + v, c, 0f, 0.5f);
                }
                w.tensor(p + "att.r_k", TensorType.FP32, new int[] {headSize, c / headSize}, 0f, 0.5f);
                w.vector(p + "att.ln_x.weight", c, 1f, 0f);
                w.vector(p + "att.ln_x.bias", c, 0f, 0f);
                w.lowRank(p + "att.w", c, dw);
                w.lowRank(p + "att.a", c, da);
                w.lowRank(p + "att.g", c, dg);
                if (i > 0) {
                    w.vector(p + "att.v0", c, 0f, 0.5f);
                    w.lowRank(p + "att.v", c, dv);
                }
                for (String m : new String[] {"key", "value", "receptance", "output"}) {
                    w.matrix(p + "att." + m + ".weight", c, c, true);
                }
                w.vector(p + "ffn.x_k", c, 0.5f, 0.3f);
                w.matrix(p + "ffn.key.weight", c, f, true);
                w.matrix(p + "ffn.value.weight", f, c, true);
            }
            w.vector("ln_out.weight", c, 1f, 0f);
            w.vector("ln_out.bias", c, 0f, 0f);
            w.matrix("head.weight", c, vocab, false);
        }
    }

    private static ShapedModelFiles open(Path file, TensorType type, int vocab, int c, int layers) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        ByteBuffer h = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(0x67676D66).putInt(101).putInt(vocab).putInt(c).putInt(layers).putInt(type.code).flip();
        ch.write(h);
        return new ShapedModelFiles(ch, type, file.getFileName().toString().hashCode());
    }

    private void layerNorms(String p, int c) throws IOException {
        for (String ln : new String[] {"ln1", "ln2"}) {
            vector(p + ln + ".weight", c, 1f, 0f);
            vector(p + ln + ".bias", c, 0f, 0f);
        }
    }

    private void lowRank(String p, int c, int rank) throws IOException {
        matrix(p + "1", c, rank, false);
        matrix(p + "2", rank, c, false);
    }

    private void vector(String name, int n, float mean, float spread) throws IOException {
        tensor(name, TensorType.FP32, new int[] {n}, mean, spread);
    }

    /** A cols x rows matrix; {@code projection}: quantized in quantized files (else FP16 there). */
    private void matrix(String name, int cols, int rows, boolean projection) throws IOException {
        TensorType t = type.isQuantized() && !projection ? TensorType.FP16 : type;
        tensor(name, t, new int[] {cols, rows}, 0f, (float) (1 / Math.sqrt(cols)));
    }

    private void tensor(String name, TensorType t, int[] ne, float mean, float spread) throws IOException {
        byte[] key = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuffer h = ByteBuffer.allocate(12 + 4 * ne.length + key.length).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(ne.length).putInt(key.length).putInt(t.code);
        long n = 1;
        for (int d : ne) {
            h.putInt(d);
            n *= d;
        }
        h.put(key).flip();
        out.write(h);
        ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(t.bytesFor(n))).order(ByteOrder.LITTLE_ENDIAN);
        float[] block = new float[32];
        for (long i = 0; i < n; i += 32) {
            int m = (int) Math.min(32, n - i);
            for (int j = 0; j < m; j++) {
                block[j] = mean + spread * nextUniform();
            }
            put(data, t, block, m);
        }
        data.flip();
        while (data.hasRemaining()) {
            out.write(data);
        }
    }

    private static void put(ByteBuffer data, TensorType t, float[] v, int m) {
        switch (t) {
            case FP32:
                for (int j = 0; j < m; j++) {
                    data.putFloat(v[j]);
                }
                return;
            case FP16:
                for (int j = 0; j < m; j++) {
                    data.putShort(Half.fromFloat(v[j]));
                }
                return;
            case Q8_0: {
                float max = 0;
                for (int j = 0; j < 32; j++) {
                    max = Math.max(max, Math.abs(v[j]));
                }
                float d = max / 127;
                data.putShort(Half.fromFloat(d));
                for (int j = 0; j < 32; j++) {
                    data.put((byte) (d == 0 ? 0 : Math.round(v[j] / d)));
                }
                return;
            }
            default:
                throw new IllegalArgumentException("this stop-gap writes FP32, FP16 and Q8_0 only");
        }
    }

    /** Uniform in [-1, 1), from a splitmix64 sequence (fast enough for 200M values). */
    private float nextUniform() {
        long z = (seed += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 40) * 0x1p-23f - 1f;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
