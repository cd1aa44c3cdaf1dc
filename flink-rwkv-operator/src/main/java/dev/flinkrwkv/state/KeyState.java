package dev.flinkrwkv.state;

import org.apache.flink.annotation.Internal;

import java.util.Arrays;
import java.util.Objects;

/**
 * What the operator keeps per key: the RWKV state, the key's pending token, and counters.
 *
 * <p>The RWKV state lags one token behind the text: it has read every token of the key's history except the
 * last, which waits in {@link #pendingToken()}. Scoring the next record starts by feeding that token, whose
 * logits predict the record's first token; so every token of every record gets a log-probability, at one
 * model step per token. A new key's pending token is the model's start token (0, the end-of-text token of
 * RWKV's tokenizers), so a key's first token is scored as the start of a text.
 *
 * <p>{@link #data()} is null for a key that starts from the model's initial state (never written, reset, or
 * stored by a different model); the operator then fills it in. {@link #model()} is the fingerprint of the
 * model whose state this is; it is not stored per key (the serializer snapshot carries it) but lets the
 * serializer of a new model recognize states read with an old model's serializer, which it stores as
 * initial states when the user asked to reset on a model change.
 *
 * <p>{@link #rng()} is the state of the key's random generator when the operator generates text. It is not
 * written by {@link RwkvStateSerializer} (so scoring jobs' state and savepoints are unchanged) but kept by
 * the generating operator in a small value state of its own, read and written together with this one.
 */
@Internal
public final class KeyState {
    private float[] data;
    private int pendingToken;
    private long records;
    private long tokens;
    private long rng;
    private final String model;

    public KeyState(float[] data, int pendingToken, long records, long tokens, String model) {
        this.data = data;
        this.pendingToken = pendingToken;
        this.records = records;
        this.tokens = tokens;
        this.model = model;
    }

    /** A key that starts afresh (state to be filled with the model's initial state). */
    public static KeyState initial(int startToken, String model) {
        return new KeyState(null, startToken, 0, 0, model);
    }

    /** The flat RWKV state (live), or null for the model's initial state. */
    public float[] data() {
        return data;
    }

    public void setData(float[] data) {
        this.data = data;
    }

    /** The last token of the key's history, not yet fed to the state. */
    public int pendingToken() {
        return pendingToken;
    }

    public void setPendingToken(int token) {
        this.pendingToken = token;
    }

    /** Records scored for this key so far. */
    public long records() {
        return records;
    }

    /** Tokens scored for this key so far. */
    public long tokens() {
        return tokens;
    }

    /** Counts one more record of {@code n} tokens. */
    public void countRecord(int n) {
        records++;
        tokens += n;
    }

    /** The key's random generator state (generation only). */
    public long rng() {
        return rng;
    }

    public void setRng(long rng) {
        this.rng = rng;
    }

    /** Fingerprint of the model this state belongs to. */
    public String model() {
        return model;
    }

    public KeyState copy() {
        KeyState c = new KeyState(data == null ? null : data.clone(), pendingToken, records, tokens, model);
        c.rng = rng;
        return c;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof KeyState)) {
            return false;
        }
        KeyState k = (KeyState) o;
        return pendingToken == k.pendingToken && records == k.records && tokens == k.tokens && rng == k.rng
                && Arrays.equals(data, k.data) && Objects.equals(model, k.model);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(data), pendingToken, records, tokens, model);
    }

    @Override
    public String toString() {
        return "KeyState{records=" + records + ", tokens=" + tokens + ", pending=" + pendingToken
                + ", floats=" + (data == null ? "initial" : data.length) + "}";
    }
}
