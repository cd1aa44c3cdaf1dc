package dev.flinkrwkv.jobs;

import dev.flinkrwkv.SharedData;

import java.nio.file.Path;

/**
 * The test data in {@code flink-rwkv-operator/src/test/data} (see its README), through the operator's
 * {@link SharedData}: tests read it, the product never does.
 */
public final class Shared {
    private Shared() {}

    /** A directory of the test data by topic, e.g. {@code testData("loghub")}. */
    public static Path testData(String topic) {
        return SharedData.testData(topic);
    }

    /** One of the 35 tiny model files by name, e.g. tiny-rwkv-7v0-834K-FP32.bin (see {@link SharedData#tinyModel}). */
    public static Path tinyModel(String name) {
        return SharedData.tinyModel(name);
    }

    public static Path bgl() {
        return SharedData.loghub().resolve("BGL_2k.log");
    }
}
