package dev.flinkrwkv.tokenize;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Picks a tokenizer: by name ({@code world}, {@code bytes}, or a vocabulary file), or by a model's vocabulary size.
 * The built-in tables are read from the jar once per JVM, on first use.
 */
public final class Tokenizers {
    private Tokenizers() {}

    private static final class World {
        static final WorldTokenizer INSTANCE = WorldTokenizer.builtIn();
    }

    /**
     * {@code world}, {@code bytes}, or the path of a vocabulary file in the World format (one token a line: id,
     * Python literal, byte length).
     *
     * @throws IllegalArgumentException for an unknown name or a missing or malformed file
     */
    public static Tokenizer named(String name) {
        switch (name) {
            case "world":
                return World.INSTANCE;
            case "bytes":
                return new ByteTokenizer();
            default:
                return fromFile(Paths.get(name));
        }
    }

    static Tokenizer fromFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("unknown tokenizer '" + file + "': name world or bytes, or give the path"
                    + " of a vocabulary file");
        }
        try {
            return parse(file.toString(), Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer file " + file + ": " + e.getMessage(), e);
        }
    }

    /** A tokenizer from the bytes of its file, named {@code fileName}. */
    static Tokenizer parse(String fileName, byte[] file) {
        return WorldTokenizer.parse(fileName, file, 0, SerialForm.file(fileName, file));
    }
}
