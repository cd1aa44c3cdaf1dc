package dev.flinkrwkv.model;

import java.io.IOException;
import java.nio.file.Path;

/** A model file that cannot be used, with a message that names the file and the problem. */
public class ModelFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public ModelFormatException(Path file, String problem) {
        super("model file " + file + ": " + problem);
    }

    public ModelFormatException(Path file, String problem, Throwable cause) {
        super("model file " + file + ": " + problem, cause);
    }
}
