package dev.flinkrwkv.backend;

import java.util.Locale;

/** Which backend a user asks for: {@code auto} (the GPU when there is one, else the CPU), {@code cpu}, {@code cuda}. */
public enum Device {
    AUTO, CPU, CUDA;

    /** Parses {@code auto}, {@code cpu} or {@code cuda} (any case). */
    public static Device parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown device '" + name + "'; expected auto, cpu or cuda");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
