package dev.flinkrwkv.operator;

import dev.flinkrwkv.rwkv.RwkvModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The models loaded in this JVM, one per model file, shared by every operator subtask that runs on it.
 *
 * <p>Why: a task manager runs several subtasks of an operator (one per slot), and each loading the file
 * itself would hold its own heap copy of the weights (the vector kernel's single-stream
 * layout, about the file's size, twice it for 4- and 5-bit types; see {@code dev.flinkrwkv.tensor.PackedRows}),
 * where the mapped pages are shared by the OS anyway. A loaded model is immutable (evaluators, with their
 * scratch buffers, are per subtask), so sharing it is safe. A file is the same file while its real path,
 * size and modification time are: a model replaced on disk is loaded afresh by the subtasks opened after
 * the change.
 *
 * <p>Reference-counted: the last subtask to release a model drops it, so a session cluster that runs job
 * after job does not keep models of finished jobs.
 */
final class SharedModels {
    private record FileKey(Path realPath, long size, FileTime modified) {}

    private static final class Loaded {
        final RwkvModel model;
        int users;

        Loaded(RwkvModel model) {
            this.model = model;
        }
    }

    private static final Map<FileKey, Loaded> LOADED = new HashMap<>();

    private SharedModels() {}

    /** The model of this file, loaded on first use; pair each call with {@link #release}. */
    static synchronized RwkvModel acquire(Path path) throws IOException {
        FileKey key;
        try {
            Path real = path.toRealPath();
            BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class);
            key = new FileKey(real, a.size(), a.lastModifiedTime());
        } catch (IOException e) {
            RwkvModel.load(path); // the model loader's own message for a missing or unreadable file
            throw e;
        }
        Loaded loaded = LOADED.get(key);
        if (loaded == null) {
            loaded = new Loaded(RwkvModel.load(key.realPath()));
            LOADED.put(key, loaded);
        }
        loaded.users++;
        return loaded.model;
    }

    /** One user fewer of {@code model}; dropped when it was the last. */
    static synchronized void release(RwkvModel model) {
        for (Iterator<Loaded> it = LOADED.values().iterator(); it.hasNext(); ) {
            Loaded loaded = it.next();
            if (loaded.model == model) {
                if (--loaded.users == 0) {
                    it.remove();
                }
                return;
            }
        }
    }

    /** Models held now (for tests). */
    static synchronized int held() {
        return LOADED.size();
    }
}
