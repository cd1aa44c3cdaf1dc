package dev.flinkrwkv.jobs.cli;

import dev.flinkrwkv.rwkv.RwkvModel;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The check every RWKV job makes before it starts anything (broker, cluster): the model file loads and is a
 * byte-level model (vocabulary 256, since the jobs feed UTF-8 bytes as tokens). A bad path or file fails
 * here with the model reader's one-line message, instead of failing every task of a running job.
 */
public final class ByteModel {
    private ByteModel() {}

    /** Loads and checks {@code --model}; returns one line describing it, for the console. */
    public static String check(Path path) throws IOException {
        RwkvModel m = RwkvModel.load(path);
        if (m.vocab() != 256) {
            throw new IllegalArgumentException("the jobs feed UTF-8 bytes as tokens, which needs a byte-level model (vocabulary 256); "
                    + path + " has a vocabulary of " + m.vocab());
        }
        return "model " + path.toAbsolutePath() + ": RWKV " + m.version() + ", " + m.layers() + " layers x " + m.embed();
    }
}
