package dev.flinkrwkv.state;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/**
 * What a checkpoint records about the RWKV states it holds: the model's fingerprint, the state layout and
 * size, the storage precision and the start token.
 *
 * <p>On restore Flink asks the <em>new</em> serializer's snapshot (built from the job's model) to judge the
 * checkpoint's snapshot ({@link #resolveSchemaCompatibility}), so the comparison sees both models:
 * <ul>
 *   <li>same model, same precision: compatible as is;
 *   <li>same model, another precision: compatible after migration (Flink re-encodes every state);
 *   <li>another model: a {@link ModelMismatchException} naming both fingerprints and layouts, or, if the job
 *       set reset-on-model-change, compatible after migration: the old states are read with the old
 *       model's serializer and written by the new one as initial states, so those keys start afresh.
 * </ul>
 */
@Internal
public final class RwkvStateSerializerSnapshot implements TypeSerializerSnapshot<KeyState> {
    private static final int VERSION = 1;

    private String fingerprint;
    private String layout;
    private int stateSize;
    private StatePrecision precision;
    private int startToken;
    private boolean resetOnModelChange;

    /** For Flink, which reads snapshots into a new instance. */
    public RwkvStateSerializerSnapshot() {}

    RwkvStateSerializerSnapshot(RwkvStateSerializer s) {
        this.fingerprint = s.fingerprint();
        this.layout = s.layout();
        this.stateSize = s.stateSize();
        this.precision = s.precision();
        this.startToken = s.startToken();
        this.resetOnModelChange = s.resetOnModelChange();
    }

    public String fingerprint() {
        return fingerprint;
    }

    @Override
    public int getCurrentVersion() {
        return VERSION;
    }

    @Override
    public void writeSnapshot(DataOutputView out) throws IOException {
        out.writeUTF(fingerprint);
        out.writeUTF(layout);
        out.writeInt(stateSize);
        out.writeUTF(precision.name());
        out.writeInt(startToken);
    }

    @Override
    public void readSnapshot(int readVersion, DataInputView in, ClassLoader classLoader) throws IOException {
        if (readVersion != VERSION) {
            throw new IOException("RWKV state serializer snapshot version " + readVersion + ", this build reads "
                    + VERSION);
        }
        fingerprint = in.readUTF();
        layout = in.readUTF();
        stateSize = in.readInt();
        String p = in.readUTF();
        try {
            precision = StatePrecision.valueOf(p);
        } catch (IllegalArgumentException e) {
            throw new IOException("unknown RWKV state precision '" + p + "' in a checkpoint", e);
        }
        startToken = in.readInt();
        resetOnModelChange = false;
    }

    @Override
    public TypeSerializer<KeyState> restoreSerializer() {
        return new RwkvStateSerializer(fingerprint, layout, stateSize, precision, startToken, false);
    }

    @Override
    public TypeSerializerSchemaCompatibility<KeyState> resolveSchemaCompatibility(
            TypeSerializerSnapshot<KeyState> oldSnapshot) {
        if (!(oldSnapshot instanceof RwkvStateSerializerSnapshot)) {
            return TypeSerializerSchemaCompatibility.incompatible();
        }
        RwkvStateSerializerSnapshot old = (RwkvStateSerializerSnapshot) oldSnapshot;
        if (!old.fingerprint.equals(fingerprint) || old.stateSize != stateSize) {
            if (resetOnModelChange) {
                return TypeSerializerSchemaCompatibility.compatibleAfterMigration();
            }
            throw new ModelMismatchException("the checkpoint holds RWKV states of model " + old.fingerprint
                    + " (" + old.layout + "), but the job runs model " + fingerprint + " (" + layout
                    + "); restore with the model the checkpoint was taken with, or enable reset on model"
                    + " change (RwkvOperatorConfig.resetStatesOnModelChange) to start those keys afresh");
        }
        if (old.precision != precision) {
            return TypeSerializerSchemaCompatibility.compatibleAfterMigration();
        }
        return TypeSerializerSchemaCompatibility.compatibleAsIs();
    }
}
