package dev.flinkrwkv.tokenize;

import java.io.ObjectStreamException;
import java.io.Serializable;

/**
 * What a table tokenizer serializes as: the name of a built-in one, or the file it was read from (its bytes,
 * since a task manager may not see the client's files). Reading it back parses the table again, once per JVM
 * for the built-in ones.
 */
final class SerialForm implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String builtIn;
    private final String fileName;
    private final byte[] file;

    private SerialForm(String builtIn, String fileName, byte[] file) {
        this.builtIn = builtIn;
        this.fileName = fileName;
        this.file = file;
    }

    static SerialForm builtIn(String name) {
        return new SerialForm(name, null, null);
    }

    static SerialForm file(String fileName, byte[] file) {
        return new SerialForm(null, fileName, file);
    }

    private Object readResolve() throws ObjectStreamException {
        return builtIn != null ? Tokenizers.named(builtIn) : Tokenizers.parse(fileName, file);
    }
}
