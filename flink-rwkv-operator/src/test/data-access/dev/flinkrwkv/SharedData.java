package dev.flinkrwkv;

import dev.flinkrwkv.rwkv.RwkvSpec;
import dev.flinkrwkv.model.Quantizer;
import dev.flinkrwkv.model.TensorType;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The test data in {@code flink-rwkv-operator/src/test/data} (models, references, logs; see its README):
 * tests read it, the product never does. Compiled into the tests of both modules (flink-jobs reaches it
 * through {@code dev.flinkrwkv.jobs.Shared}).
 *
 * <p>Of rwkv.cpp's 35 tiny model files only the five FP32 ones are stored; the FP16 and quantized ones are
 * made from them with {@link Quantizer} the first time a test asks for them, into
 * {@code target/test-data/models/} (shared by the test JVMs of a build), and used only when they match
 * the SHA-256 of rwkv.cpp's own file ({@code models/SHA256SUMS}). So a quantizer that stops rounding as
 * rwkv.cpp does fails every test that reads such a file, with the reason.
 */
public final class SharedData {
    private SharedData() {}

    private static final String TINY = "rwkv-cpp-tiny";
    private static final String QUANTIZED = "rwkv-cpp-tiny-quantized";

    /** The files of rwkv.cpp's tiny test set ("rwkv-cpp-tiny/NAME" or "rwkv-cpp-tiny-quantized/NAME") and their SHA-256. */
    private static volatile Map<String, String> sums;
    /** Files already checked (or made) in this JVM: name to path in the cache. */
    private static final Map<String, Path> READY = new ConcurrentHashMap<>();

    /**
     * The test data directory: {@code src/test/data} of the operator module, seen from the working
     * directory (a module's, as in Maven, or the project's), else the system property
     * {@code flinkrwkv.testdata} (for test classes run outside the project, as the GPU kit does).
     */
    public static Path data() {
        String p = System.getProperty("flinkrwkv.testdata");
        if (p != null) {
            if (!Files.isRegularFile(Paths.get(p, "models/SHA256SUMS"))) {
                throw new IllegalStateException("-Dflinkrwkv.testdata=" + p + " is not the test data directory (no models/SHA256SUMS in it)");
            }
            return Paths.get(p).toAbsolutePath().normalize();
        }
        for (String c : List.of("src/test/data", "../flink-rwkv-operator/src/test/data", "flink-rwkv-operator/src/test/data")) {
            Path d = Paths.get(c);
            if (Files.isRegularFile(d.resolve("models/SHA256SUMS"))) {
                return d.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException("no test data in flink-rwkv-operator/src/test/data: run from the project or a module"
                + " directory, or set -Dflinkrwkv.testdata=DIR");
    }

    /**
     * Where made and copied model files go: the system property {@code flinkrwkv.testcache}, else the
     * module's {@code target/test-data} (beside {@code DIR/test-data-cache} for a data directory elsewhere).
     */
    public static Path cache() {
        String p = System.getProperty("flinkrwkv.testcache");
        if (p != null) {
            return Paths.get(p).toAbsolutePath().normalize();
        }
        Path d = data();
        if (d.endsWith(Paths.get("src", "test", "data"))) {
            return d.getParent().getParent().getParent().resolve("target").resolve("test-data");
        }
        return d.resolveSibling("test-data-cache");
    }

    /** rwkv.cpp's directory of tiny models, FP32, FP16, Q5_1 and the expected logits (all made or copied here). */
    public static Path tinyModels() {
        return materialize(TINY);
    }

    /** rwkv.cpp's directory of the tiny models quantized to Q4_0, Q4_1, Q5_0 and Q8_0 (all made here). */
    public static Path quantizedModels() {
        return materialize(QUANTIZED);
    }

    /** A directory of the test data by topic, e.g. {@code testData("loghub")}. */
    public static Path testData(String topic) {
        return data().resolve(topic);
    }

    /** The float32 reference outputs over 1024 bytes of HDFS log ({@code hdfs1k-<model>-exact.*}). */
    public static Path reference() {
        return data().resolve("reference");
    }

    /** The loghub samples: BGL_2k.log, HDFS_2k.log. */
    public static Path loghub() {
        return data().resolve("loghub");
    }

    /**
     * One of the 35 tiny model files by name, e.g. {@code tiny-rwkv-7v0-834K-Q5_1.bin} (made on first use,
     * then the same file for every later call), or another file of rwkv.cpp's test set such as
     * {@code expected-logits-7v0-834K.bin}.
     */
    public static Path tinyModel(String fileName) {
        String key = sums().containsKey(TINY + "/" + fileName) ? TINY + "/" + fileName : QUANTIZED + "/" + fileName;
        if (!sums().containsKey(key)) {
            throw new IllegalArgumentException("no tiny model file " + fileName + "; the names are in " + data().resolve("models/SHA256SUMS"));
        }
        return file(key);
    }

    /** rwkv.cpp's logits after {@code "in} for a tiny model's version (computed with its FP32 file). */
    public static Path expectedLogits(Path model) {
        return data().resolve("models").resolve(TINY).resolve("expected-logits-" + versionTag(model) + ".bin");
    }

    /** The names of the 35 tiny model files (five versions, seven storage types), sorted. */
    public static List<String> modelNames() {
        List<String> out = new ArrayList<>();
        for (String key : sums().keySet()) {
            String name = key.substring(key.indexOf('/') + 1);
            if (name.startsWith("tiny-rwkv-")) {
                out.add(name);
            }
        }
        out.sort(null);
        return out;
    }

    /** Every tiny model file (35: five versions, seven storage types), sorted by name. */
    public static List<Path> allModels() {
        return modelNames().stream().map(SharedData::tinyModel).toList();
    }

    /** The SHA-256 (lower-case hex) of rwkv.cpp's file of this name. */
    public static String rwkvCppSha256(String fileName) {
        String s = sums().get(TINY + "/" + fileName);
        return s != null ? s : sums().get(QUANTIZED + "/" + fileName);
    }

    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The model file's name without ".bin", e.g. tiny-rwkv-7v0-834K-Q5_1. */
    public static String stem(Path model) {
        String n = model.getFileName().toString();
        return n.substring(0, n.length() - 4);
    }

    /** The version part of a tiny model's name, e.g. 7v0-834K. */
    public static String versionTag(Path model) {
        String s = stem(model).substring("tiny-rwkv-".length());
        return s.substring(0, s.lastIndexOf('-'));
    }

    public static float[] readFloats(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    private static Map<String, String> sums() {
        Map<String, String> s = sums;
        if (s == null) {
            s = new LinkedHashMap<>();
            try {
                for (String line : Files.readAllLines(data().resolve("models/SHA256SUMS"))) {
                    if (!line.isBlank()) {
                        s.put(line.substring(64).trim(), line.substring(0, 64));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            sums = s;
        }
        return s;
    }

    /** Every file of one of rwkv.cpp's directories in the cache; the directory. */
    private static Path materialize(String dir) {
        Path out = null;
        for (String key : sums().keySet()) {
            if (key.startsWith(dir + "/")) {
                out = file(key).getParent();
            }
        }
        return out;
    }

    /** The file in the cache, checked against its sum once per JVM (made or copied first where missing or different). */
    private static Path file(String key) {
        Path ready = READY.get(key);
        if (ready != null) {
            return ready;
        }
        // one file at a time: a made file's FP32 source is read from the data directory, never from here
        synchronized (SharedData.class) {
            return READY.computeIfAbsent(key, k -> {
                try {
                    return check(k);
                } catch (IOException e) {
                    throw new UncheckedIOException(k + ": " + e.getMessage(), e);
                }
            });
        }
    }

    private static Path check(String key) throws IOException {
        Path target = cache().resolve("models").resolve(key);
        String want = sums().get(key);
        if (Files.isRegularFile(target) && want.equals(sha256(target))) {
            return target;
        }
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp");
        try {
            String name = target.getFileName().toString();
            Path stored = data().resolve("models").resolve(key);
            if (Files.isRegularFile(stored)) {
                Files.copy(stored, tmp, StandardCopyOption.REPLACE_EXISTING);
            } else {
                make(name, tmp);
            }
            String got = sha256(tmp);
            if (!got.equals(want)) {
                throw new IllegalStateException(key + (Files.isRegularFile(stored) ? " in " + stored : " as made by Quantizer")
                        + " is not rwkv.cpp's file: SHA-256 " + got + ", expected " + want);
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Makes tiny-rwkv-TAG-TYPE.bin from the stored tiny-rwkv-TAG-FP32.bin as rwkv.cpp did: the block types
     * with its quantizer (file version 101), FP16 with its converter, which wrote the FP32 file's version
     * (100 for the older v4 files) where {@link Quantizer} always writes 101.
     */
    private static void make(String name, Path out) throws IOException {
        int dash = name.lastIndexOf('-');
        TensorType type = TensorType.valueOf(name.substring(dash + 1, name.length() - ".bin".length()));
        Path fp32 = data().resolve("models").resolve(TINY).resolve(name.substring(0, dash) + "-FP32.bin");
        Quantizer.convert(fp32, out, type, RwkvSpec::keptUnquantizedByAnyVersion);
        if (type == TensorType.FP16) {
            ByteBuffer version = ByteBuffer.allocate(4);
            try (FileChannel in = FileChannel.open(fp32)) {
                in.read(version, 4);
            }
            version.flip();
            try (FileChannel o = FileChannel.open(out, StandardOpenOption.WRITE)) {
                o.write(version, 4);
            }
        }
    }
}
