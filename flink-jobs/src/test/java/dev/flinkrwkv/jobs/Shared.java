package dev.flinkrwkv.jobs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * The test data in {@code flink-rwkv-operator/src/test/data} (see its README): tests read it, the product
 * never does. Only its stored files: the FP32 tiny models, the loghub samples.
 */
public final class Shared {
    private Shared() {}

    /** The operator module's {@code src/test/data}, seen from this module's directory or the project's. */
    public static Path data() {
        for (String c : List.of("../flink-rwkv-operator/src/test/data", "flink-rwkv-operator/src/test/data")) {
            Path d = Paths.get(c);
            if (Files.isDirectory(d.resolve("models"))) {
                return d.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException("no test data in flink-rwkv-operator/src/test/data: run from the project or a module directory");
    }

    /** A stored tiny model, e.g. tiny-rwkv-7v0-834K-FP32.bin (the FP16 and quantized ones are the operator tests' own). */
    public static Path tinyModel(String name) {
        Path p = data().resolve("models/rwkv-cpp-tiny").resolve(name);
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException("no stored tiny model " + name + " in " + p.getParent() + " (only FP32 is stored)");
        }
        return p;
    }

    public static Path bgl() {
        return data().resolve("loghub/BGL_2k.log");
    }
}
