package dev.flinkrwkv.operator;

import dev.flinkrwkv.rwkv.RwkvState;
import dev.flinkrwkv.state.KeyState;

import java.util.ArrayList;
import java.util.List;

/**
 * One key's place in a batch: its state and its buffered records (in arrival order), and where scoring has
 * got to. A lane takes one token per lock-step batch step; see {@link LockstepScorer}.
 */
final class Lane {
    final Object key;
    final List<PendingRecord> records = new ArrayList<>(2);
    KeyState state;
    RwkvState rwkv;

    // progress through records.get(record): tokens scored so far, then whether the tokens were folded into
    // the key's state and counters, then whether the next-token step (if any) was done
    int record;
    int pos;
    boolean tokensDone;
    boolean nextDone;
    long seq;
    double sumLogProb;
    float[] logProbs;
    RwkvResult result;
    // generation: the tokens generated so far for the current record
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
        nextDone = false;
        sumLogProb = 0;
        logProbs = null;
        result = null;
        generated = null;
        generatedCount = 0;
    }

    boolean done() {
        return record >= records.size();
    }
}
