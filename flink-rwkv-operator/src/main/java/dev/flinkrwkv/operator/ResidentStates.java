package dev.flinkrwkv.operator;

import dev.flinkrwkv.state.KeyState;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Key states held in memory between batches, least recently used first, bounded in bytes. A state changed
 * since it was last written to keyed state is dirty: it is written back when evicted and before every
 * checkpoint barrier, so keyed state is touched once per key per checkpoint interval rather than per token.
 */
final class ResidentStates {
    /** Writes one key's state to Flink keyed state. */
    interface WriteBack {
        void write(Object key, KeyState state) throws Exception;
    }

    static final class Entry {
        KeyState state;
        boolean dirty;
        long lastUsed;

        Entry(KeyState state) {
            this.state = state;
        }
    }

    private final LinkedHashMap<Object, Entry> entries = new LinkedHashMap<>(1024, 0.75f, true);
    private final long bytesPerState;

    ResidentStates(long bytesPerState) {
        this.bytesPerState = bytesPerState;
    }

    /** The key's entry (marked most recently used), or null. */
    Entry get(Object key) {
        return entries.get(key);
    }

    void put(Object key, Entry e) {
        entries.put(key, e);
    }

    int size() {
        return entries.size();
    }

    long bytes() {
        return entries.size() * bytesPerState;
    }

    /** Writes back and drops least recently used entries until at most {@code maxBytes} are held. */
    int evictBeyond(long maxBytes, WriteBack w) throws Exception {
        int written = 0;
        Iterator<Map.Entry<Object, Entry>> it = entries.entrySet().iterator();
        while (bytes() > maxBytes && it.hasNext()) {
            Map.Entry<Object, Entry> e = it.next();
            if (e.getValue().dirty) {
                w.write(e.getKey(), e.getValue().state);
                written++;
            }
            it.remove();
        }
        return written;
    }

    /** Writes back every dirty entry (they stay resident, now clean). */
    int writeBackDirty(WriteBack w) throws Exception {
        int written = 0;
        for (Map.Entry<Object, Entry> e : entries.entrySet()) {
            if (e.getValue().dirty) {
                w.write(e.getKey(), e.getValue().state);
                e.getValue().dirty = false;
                written++;
            }
        }
        return written;
    }
}
