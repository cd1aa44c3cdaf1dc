package dev.flinkrwkv.jobs.cli;

import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.tokenize.Tokenizer;
import dev.flinkrwkv.tokenize.Tokenizers;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The check every command that reads text with a model makes before it starts anything (broker, cluster): the
 * model file opens, and the tokenizer ({@code --tokenizer world|20b|bytes|FILE}, by default the model's own,
 * chosen by its vocabulary size) gives only ids the model has. A bad path, file or pairing fails here with one
 * line, instead of failing every task of a running job.
 */
public final class ModelTokenizer {
    public static final String USAGE = "[--tokenizer world|20b|bytes|FILE]";

    private final Path model;
    private final ModelFile file;
    private final Tokenizer tokenizer;

    private ModelTokenizer(Path model, ModelFile file, Tokenizer tokenizer) {
        this.model = model;
        this.file = file;
        this.tokenizer = tokenizer;
    }

    /** Opens {@code --model} (its header and tensor table) and picks and checks the tokenizer. */
    public static ModelTokenizer of(Args a) throws IOException {
        Path model = a.path("model");
        ModelFile file = ModelFile.open(model);
        Tokenizer t;
        try {
            t = a.has("tokenizer") ? Tokenizers.named(a.string("tokenizer")) : Tokenizers.forVocabulary(file.vocab());
            Tokenizers.checkFits(t, file.vocab());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model " + model + ": " + e.getMessage(), e);
        }
        return new ModelTokenizer(model, file, t);
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public Path model() {
        return model;
    }

    public int vocab() {
        return file.vocab();
    }

    /** One line describing the model and its tokenizer, for the console. */
    public String describe() {
        return "model " + model.toAbsolutePath() + ": " + file.format() + ", vocabulary " + file.vocab() + ", "
                + file.layers() + " layers x " + file.embed() + "; tokenizer " + tokenizer.name();
    }
}
