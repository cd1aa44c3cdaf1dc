package dev.flinkrwkv.operator;

import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.state.KeyState;

import java.util.ArrayList;
import java.util.List;

/**
 * One key's place in a batch: its state and its buffered records (in arrival order), and, while generating,
 * where the current record has got to. See {@link RaggedScorer} and {@link RaggedGenerator}.
 */
final class Lane {
    final Object key;
    final List<PendingRecord> records = new ArrayList<>(2);
    KeyState state;
    RwkvState rwkv;

    // progress through records.get(record) (generation): whether it is finished (its result made), its
    // first row and logits slot in the current round, the tokens generated so far
    int record;
    boolean tokensDone;
    int pos;
    int slot;
    long seq;
    double sumLogProb;
    RwkvResult result;
    int[] generated;
    int generatedCount;

    Lane(Object key) {
        this.key = key;
    }

    void attach(KeyState state) {
        this.state = state;
        this.rwkv = RwkvState.wrap(state.data());
    }

    PendingRecord current() {
        return records.get(record);
    }

    /** Moves to the next record. */
    void advance() {
        record++;
        pos = 0;
        tokensDone = false;
        sumLogProb = 0;
        result = null;
        generated = null;
        generatedCount = 0;
    }

    boolean done() {
        return record >= records.size();
    }
}
