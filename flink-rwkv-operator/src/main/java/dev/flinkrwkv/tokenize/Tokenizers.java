package dev.flinkrwkv.tokenize;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Picks a tokenizer: by name ({@code world}, {@code 20b}, {@code bytes}, or a file), or by a model's vocabulary size.
 * The built-in tables are read from the jar once per JVM, on first use.
 */
public final class Tokenizers {
    private Tokenizers() {}

    private static final class World {
        static final WorldTokenizer INSTANCE = WorldTokenizer.builtIn();
    }

    private static final class Neox20b {
        static final ByteLevelBpeTokenizer INSTANCE = ByteLevelBpeTokenizer.builtIn20b();
    }

    /**
     * {@code world}, {@code 20b}, {@code bytes}, or the path of a tokenizer file: a Hugging Face
     * {@code tokenizer.json} with a byte-level BPE model, or a vocabulary in the World format (one token a line:
     * id, Python literal, byte length).
     *
     * @throws IllegalArgumentException for an unknown name or a missing or malformed file
     */
    public static Tokenizer named(String name) {
        switch (name) {
            case "world":
                return World.INSTANCE;
            case "20b":
                return Neox20b.INSTANCE;
            case "bytes":
                return new ByteTokenizer();
            default:
                return fromFile(Paths.get(name));
        }
    }

    /**
     * The tokenizer of models with this vocabulary size: 65536 World (RWKV-4 World, 5, 6, 7), 50277 or 50304 (the
     * same table padded) the GPT-NeoX 20B BPE (RWKV-4 Pile), 256 bytes.
     *
     * @throws IllegalArgumentException for another size, asking for a tokenizer by name
     */
    public static Tokenizer forVocabulary(int vocab) {
        switch (vocab) {
            case 256:
                return named("bytes");
            case WorldTokenizer.VOCAB:
                return named("world");
            case 50277:
            case 50304:
                return named("20b");
            default:
                throw new IllegalArgumentException("no tokenizer is known for a model vocabulary of " + vocab
                        + ": name one (world, 20b, bytes, or a tokenizer file)");
        }
    }

    /**
     * Checks, before any record is read, that every id the tokenizer gives is an id of the model.
     *
     * @throws IllegalArgumentException naming both sizes, if the tokenizer's vocabulary is larger than the model's
     */
    public static void checkFits(Tokenizer tokenizer, int modelVocab) {
        if (tokenizer.vocab() > modelVocab) {
            String hint;
            try {
                hint = "; this model's tokenizer is " + forVocabulary(modelVocab).name();
            } catch (IllegalArgumentException e) {
                hint = "";
            }
            throw new IllegalArgumentException("the " + tokenizer.name() + " tokenizer gives ids up to "
                    + (tokenizer.vocab() - 1) + " but the model's vocabulary has " + modelVocab + " ids (0 to "
                    + (modelVocab - 1) + ")" + hint);
        }
    }

    static Tokenizer fromFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("unknown tokenizer '" + file + "': name world, 20b or bytes, or give the path"
                    + " of a vocabulary file");
        }
        try {
            return parse(file.toString(), Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * A tokenizer from the bytes of its file, named {@code fileName}: a Hugging Face {@code tokenizer.json} (a JSON
     * object) or a vocabulary in the World format.
     */
    static Tokenizer parse(String fileName, byte[] file) {
        SerialForm form = SerialForm.file(fileName, file);
        int i = 0;
        while (i < file.length && (file[i] == ' ' || file[i] == '\n' || file[i] == '\r' || file[i] == '\t')) {
            i++;
        }
        return i < file.length && file[i] == '{' ? ByteLevelBpeTokenizer.parse(fileName, file, form)
                : WorldTokenizer.parse(fileName, file, 0, form);
    }
}
