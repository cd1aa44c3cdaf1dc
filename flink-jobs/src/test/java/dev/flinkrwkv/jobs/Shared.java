package dev.flinkrwkv.jobs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** The shared test data (../shared next to the checkout): tests read it, the product never does. */
public final class Shared {
    private Shared() {}

    public static Path root() {
        String p = System.getProperty("flinkrwkv.shared");
        Path root = p != null ? Paths.get(p) : Paths.get("..", "shared");
        if (!Files.isDirectory(root.resolve("models"))) {
            root = Paths.get("..", "..", "shared");
        }
        return root.toAbsolutePath().normalize();
    }

    public static Path tinyModel(String name) {
        return root().resolve("models/rwkv-cpp-tiny").resolve(name);
    }

    /** Test data kept in the operator module: {@code flink-rwkv-operator/src/test/data/<topic>}. */
    public static Path testData(String topic) {
        Path p = Paths.get("..", "flink-rwkv-operator", "src", "test", "data", topic);
        if (!Files.isDirectory(p)) {
            p = Paths.get("flink-rwkv-operator", "src", "test", "data", topic); // run from the project root
        }
        return p.toAbsolutePath().normalize();
    }

    public static Path bgl() {
        return root().resolve("data/loghub/BGL_2k.log");
    }
}
