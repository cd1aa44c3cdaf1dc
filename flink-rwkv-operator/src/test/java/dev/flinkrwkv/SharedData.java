package dev.flinkrwkv;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The test data in ../shared (models, references, logs): tests read it, the product never does. */
public final class SharedData {
    private SharedData() {}

    public static Path root() {
        String p = System.getProperty("flinkrwkv.shared");
        Path root = p != null ? Paths.get(p) : Paths.get("..", "shared");
        if (!Files.isDirectory(root.resolve("models"))) {
            root = Paths.get("..", "..", "shared"); // run from a module directory
        }
        return root.toAbsolutePath().normalize();
    }

    public static Path tinyModels() {
        return root().resolve("models/rwkv-cpp-tiny");
    }

    public static Path quantizedModels() {
        return root().resolve("models/rwkv-cpp-tiny-quantized");
    }

    /** Test data kept in this repository: {@code flink-rwkv-operator/src/test/data/<topic>}. */
    public static Path testData(String topic) {
        Path p = Paths.get("src", "test", "data", topic);
        if (!Files.isDirectory(p)) {
            p = Paths.get("flink-rwkv-operator", "src", "test", "data", topic); // run from the project root
        }
        return p.toAbsolutePath().normalize();
    }

    public static Path reference() {
        return root().resolve("reference");
    }

    /** Every tiny model file (35: five versions, seven storage types), sorted by name. */
    public static List<Path> allModels() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path dir : List.of(tinyModels(), quantizedModels())) {
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(f -> f.getFileName().toString().startsWith("tiny-rwkv-")).forEach(out::add);
            }
        }
        out.sort(null);
        return out;
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
}
