package dev.flinkrwkv.state;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Flink serializer of a key's {@link KeyState}, compact and model-aware.
 *
 * <p>Layout of one value: {@code int n}; if {@code n == 0} the key starts from the initial state and nothing
 * follows; otherwise {@code int pendingToken, long records, long tokens}, then {@code n} state values in the
 * {@link StatePrecision} (little-endian, written as one block, not value by value, since a 0.1B model's
 * state is 2.4 MB).
 *
 * <p>The serializer is bound to one model: it knows the model's fingerprint (hash of header and tensor
 * table), a description of the state layout, and the state size. Its {@link RwkvStateSerializerSnapshot}
 * records them in every checkpoint, and on restore compares the checkpoint's model with the job's (see
 * there). A {@link KeyState} of another model (read by the restore serializer of an old model's snapshot
 * during a reset migration) is written as an initial state.
 *
 * <p>Not thread-safe (it reuses a byte buffer); {@link #duplicate()} gives each thread its own.
 */
@Internal
public final class RwkvStateSerializer extends TypeSerializer<KeyState> {
    private static final long serialVersionUID = 1L;
    private static final int HEADER_BYTES = 4 + 8 + 8;

    private final String fingerprint;
    private final String layout;
    private final int stateSize;
    private final StatePrecision precision;
    private final int startToken;
    private final boolean resetOnModelChange;

    private transient byte[] buffer;

    /**
     * @param fingerprint the model's fingerprint ({@code ModelFile.fingerprint()})
     * @param layout a readable description of the state layout (version, layers, sizes), for messages
     * @param stateSize floats in one state
     * @param precision how state values are stored
     * @param startToken a new key's pending token
     * @param resetOnModelChange on restore from another model's states: start them afresh instead of failing
     */
    public RwkvStateSerializer(String fingerprint, String layout, int stateSize, StatePrecision precision,
                               int startToken, boolean resetOnModelChange) {
        if (stateSize <= 0) {
            throw new IllegalArgumentException("state size " + stateSize);
        }
        this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
        this.layout = Objects.requireNonNull(layout, "layout");
        this.stateSize = stateSize;
        this.precision = Objects.requireNonNull(precision, "precision");
        this.startToken = startToken;
        this.resetOnModelChange = resetOnModelChange;
    }

    public String fingerprint() {
        return fingerprint;
    }

    public String layout() {
        return layout;
    }

    public int stateSize() {
        return stateSize;
    }

    public StatePrecision precision() {
        return precision;
    }

    public int startToken() {
        return startToken;
    }

    public boolean resetOnModelChange() {
        return resetOnModelChange;
    }

    /** Bytes of one stored state with its counters. */
    public int storedBytes() {
        return 4 + HEADER_BYTES + stateSize * precision.bytesPerValue();
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<KeyState> duplicate() {
        return new RwkvStateSerializer(fingerprint, layout, stateSize, precision, startToken, resetOnModelChange);
    }

    @Override
    public KeyState createInstance() {
        return KeyState.initial(startToken, fingerprint);
    }

    @Override
    public KeyState copy(KeyState from) {
        return from.copy();
    }

    @Override
    public KeyState copy(KeyState from, KeyState reuse) {
        return from.copy();
    }

    @Override
    public int getLength() {
        return -1; // an initial state is stored in 4 bytes
    }

    @Override
    public void serialize(KeyState s, DataOutputView out) throws IOException {
        float[] data = s.data();
        if (data == null || !fingerprint.equals(s.model())) {
            out.writeInt(0); // initial state, or another model's state being reset
            return;
        }
        if (data.length != stateSize) {
            throw new IOException("state of " + data.length + " floats, the model's (" + layout + ") has " + stateSize);
        }
        out.writeInt(stateSize);
        out.writeInt(s.pendingToken());
        out.writeLong(s.records());
        out.writeLong(s.tokens());
        int n = stateSize * precision.bytesPerValue();
        ByteBuffer b = ByteBuffer.wrap(buffer(n)).order(ByteOrder.LITTLE_ENDIAN);
        precision.encode(data, b);
        out.write(buffer, 0, n);
    }

    @Override
    public KeyState deserialize(DataInputView in) throws IOException {
        int n = in.readInt();
        if (n == 0) {
            return KeyState.initial(startToken, fingerprint);
        }
        if (n != stateSize) {
            throw new IOException("stored state of " + n + " floats, the serializer's model (" + layout + ") has "
                    + stateSize);
        }
        int pending = in.readInt();
        long records = in.readLong();
        long tokens = in.readLong();
        int bytes = n * precision.bytesPerValue();
        in.readFully(buffer(bytes), 0, bytes);
        float[] data = new float[n];
        precision.decode(ByteBuffer.wrap(buffer, 0, bytes).order(ByteOrder.LITTLE_ENDIAN), data);
        return new KeyState(data, pending, records, tokens, fingerprint);
    }

    @Override
    public KeyState deserialize(KeyState reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        int n = in.readInt();
        out.writeInt(n);
        if (n != 0) {
            int bytes = HEADER_BYTES + n * precision.bytesPerValue();
            in.readFully(buffer(bytes), 0, bytes);
            out.write(buffer, 0, bytes);
        }
    }

    private byte[] buffer(int n) {
        if (buffer == null || buffer.length < n) {
            buffer = new byte[n];
        }
        return buffer;
    }

    @Override
    public TypeSerializerSnapshot<KeyState> snapshotConfiguration() {
        return new RwkvStateSerializerSnapshot(this);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RwkvStateSerializer)) {
            return false;
        }
        RwkvStateSerializer s = (RwkvStateSerializer) o;
        return fingerprint.equals(s.fingerprint) && layout.equals(s.layout) && stateSize == s.stateSize
                && precision == s.precision && startToken == s.startToken
                && resetOnModelChange == s.resetOnModelChange;
    }

    @Override
    public int hashCode() {
        return Objects.hash(fingerprint, layout, stateSize, precision, startToken, resetOnModelChange);
    }

    @Override
    public String toString() {
        return "RwkvStateSerializer{model " + fingerprint + ", " + layout + ", " + precision + "}";
    }
}
