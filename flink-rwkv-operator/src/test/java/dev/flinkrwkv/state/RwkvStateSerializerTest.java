package dev.flinkrwkv.state;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The key-state serializer: exact float32, measured 16-bit error, and the model check of its snapshot. */
class RwkvStateSerializerTest {
    private static final String FP_A = "a".repeat(64);
    private static final String FP_B = "b".repeat(64);

    private static RwkvStateSerializer serializer(String fp, int size, StatePrecision p, boolean reset) {
        return new RwkvStateSerializer(fp, "test layout " + size, size, p, 0, reset);
    }

    private static byte[] write(TypeSerializer<KeyState> s, KeyState k) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        s.serialize(k, out);
        return out.getCopyOfBuffer();
    }

    private static KeyState read(TypeSerializer<KeyState> s, byte[] bytes) throws IOException {
        return s.deserialize(new DataInputDeserializer(bytes));
    }

    private static float[] values(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (Math.sin(i * 0.37) * Math.pow(10, (i % 7) - 3));
        }
        v[0] = -1e30f; // v4's initial max-exponent
        return v;
    }

    @Test
    void float32RoundTripsExactlyWithCountersAndIsCompact() throws IOException {
        RwkvStateSerializer s = serializer(FP_A, 100, StatePrecision.FLOAT32, false);
        KeyState k = new KeyState(values(100), 42, 7, 123, FP_A);
        byte[] bytes = write(s, k);
        assertEquals(s.storedBytes(), bytes.length);
        assertEquals(4 + 4 + 8 + 8 + 400, bytes.length);
        assertEquals(k, read(s, bytes));
        DataOutputSerializer copied = new DataOutputSerializer(64);
        s.copy(new DataInputDeserializer(bytes), copied);
        assertArrayEquals(bytes, copied.getCopyOfBuffer());
    }

    @Test
    void initialStatesAreStoredAsAMarker() throws IOException {
        RwkvStateSerializer s = serializer(FP_A, 100, StatePrecision.FLOAT32, false);
        byte[] bytes = write(s, KeyState.initial(0, FP_A));
        assertEquals(4, bytes.length);
        KeyState k = read(s, bytes);
        assertNull(k.data());
        assertEquals(0, k.records());
    }

    @ParameterizedTest
    @CsvSource({"FLOAT16, 0.000489", "BFLOAT16, 0.00391"})
    void sixteenBitModesHalveTheBytesWithinHalfAnUlp(StatePrecision p, double maxRelative) throws IOException {
        RwkvStateSerializer s = serializer(FP_A, 1000, p, false);
        float[] v = values(1000);
        KeyState back = read(s, write(s, new KeyState(v.clone(), 1, 1, 1, FP_A)));
        assertEquals(4 + 20 + 2000, s.storedBytes());
        for (int i = 1; i < v.length; i++) {
            float b = back.data()[i];
            assertEquals(p.round(v[i]), b, 0f, "stored value = rounded value");
            if (Math.abs(v[i]) > 1e-4) { // FLOAT16's normal range
                assertTrue(Math.abs(b - v[i]) <= maxRelative * Math.abs(v[i]), i + ": " + v[i] + " -> " + b);
            }
        }
    }

    /**
     * The error users see: mean surprisal of a byte text when the state is stored in 16 bits after every
     * record of 8 bytes, against float32. Printed, and bounded.
     */
    @ParameterizedTest
    @CsvSource({"4v0-660K-FP32, FLOAT16, 0.002", "4v0-660K-FP32, BFLOAT16, 0.01",
            "7v0-834K-FP32, FLOAT16, 0.002", "7v0-834K-FP32, BFLOAT16, 0.01"})
    void sixteenBitStorageChangesSurprisalLittle(String model, StatePrecision p, double maxBits) throws IOException {
        RwkvModel m = RwkvModel.load(SharedData.tinyModel("tiny-rwkv-" + model + ".bin"));
        byte[] text = ("2026-11-23 20:15:01 INFO worker-3 request served in 12 ms; "
                + "2026-11-23 20:15:02 WARN worker-1 slow disk /dev/sda1 latency 350 ms").getBytes();
        double exact = surprisal(m, text, StatePrecision.FLOAT32);
        double stored = surprisal(m, text, p);
        double diff = Math.abs(stored - exact);
        System.out.printf("%s %s: %.5f bits/token vs float32 %.5f (|diff| %.2e)%n", model, p, stored, exact, diff);
        assertTrue(diff < maxBits, "difference " + diff + " bits/token");
    }

    private static double surprisal(RwkvModel m, byte[] text, StatePrecision p) {
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState s = m.initialState();
        float[] logits = new float[m.vocab()];
        int prev = 0;
        double sum = 0;
        for (int i = 0; i < text.length; i++) {
            ev.step(s, prev, logits);
            prev = text[i] & 0xFF;
            sum -= LogProbs.of(logits, 0, m.vocab(), prev);
            if (i % 8 == 7) {
                p.roundInPlace(s.data());
            }
        }
        return sum / text.length / Math.log(2);
    }

    private static TypeSerializerSnapshot<KeyState> roundTrip(TypeSerializerSnapshot<KeyState> snap) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snap);
        return TypeSerializerSnapshot.readVersionedSnapshot(new DataInputDeserializer(out.getCopyOfBuffer()),
                getClass_().getClassLoader());
    }

    private static Class<?> getClass_() {
        return RwkvStateSerializerTest.class;
    }

    @Test
    void sameModelIsCompatibleAsIsAndAPrecisionChangeMigrates() throws IOException {
        TypeSerializerSnapshot<KeyState> old = roundTrip(serializer(FP_A, 100, StatePrecision.FLOAT32, false)
                .snapshotConfiguration());
        assertTrue(serializer(FP_A, 100, StatePrecision.FLOAT32, false).snapshotConfiguration()
                .resolveSchemaCompatibility(old).isCompatibleAsIs());
        assertTrue(serializer(FP_A, 100, StatePrecision.FLOAT16, false).snapshotConfiguration()
                .resolveSchemaCompatibility(old).isCompatibleAfterMigration());
        assertEquals(serializer(FP_A, 100, StatePrecision.FLOAT32, false), old.restoreSerializer());
    }

    @Test
    void anotherModelFailsNamingBothFingerprints() throws IOException {
        TypeSerializerSnapshot<KeyState> old = roundTrip(serializer(FP_A, 100, StatePrecision.FLOAT32, false)
                .snapshotConfiguration());
        ModelMismatchException e = assertThrows(ModelMismatchException.class, () ->
                serializer(FP_B, 100, StatePrecision.FLOAT32, false).snapshotConfiguration().resolveSchemaCompatibility(old));
        assertTrue(e.getMessage().contains(FP_A) && e.getMessage().contains(FP_B), e.getMessage());
    }

    @Test
    void anotherModelWithResetMigratesEveryStateToInitial() throws IOException {
        RwkvStateSerializer oldSer = serializer(FP_A, 100, StatePrecision.FLOAT32, false);
        byte[] oldBytes = write(oldSer, new KeyState(values(100), 5, 3, 30, FP_A));
        TypeSerializerSnapshot<KeyState> old = roundTrip(oldSer.snapshotConfiguration());
        RwkvStateSerializer newSer = serializer(FP_B, 80, StatePrecision.FLOAT32, true);
        TypeSerializerSchemaCompatibility<KeyState> c = newSer.snapshotConfiguration().resolveSchemaCompatibility(old);
        assertTrue(c.isCompatibleAfterMigration());
        // what Flink's migration does: read with the old snapshot's serializer, write with the new one
        KeyState migrated = read(newSer, write(newSer, read(old.restoreSerializer(), oldBytes)));
        assertNull(migrated.data());
        assertEquals(0, migrated.records());
        assertEquals(0, migrated.tokens());
        assertEquals(FP_B, migrated.model());
    }
}
