package dev.flinkrwkv.state;

import dev.flinkrwkv.tensor.Half;

import org.apache.flink.annotation.PublicEvolving;

import java.nio.ByteBuffer;

/**
 * How a key's RWKV state is stored in Flink keyed state. {@link #FLOAT32} is exact; the 16-bit modes halve
 * checkpoint size and RocksDB traffic at a small, measured cost in accuracy (see the serializer test).
 *
 * <p>With a 16-bit mode the operator rounds each key's in-memory state to this precision after every record,
 * so that a state kept resident and a state written to RocksDB and read back are the same values: outputs
 * then do not depend on when a state happened to be evicted, and replays stay exact.
 */
@PublicEvolving
public enum StatePrecision {
    /** IEEE binary32, 4 bytes a value, lossless. */
    FLOAT32(4),
    /** IEEE binary16 (round to nearest even), 2 bytes: 11 significant bits, range up to 65504. */
    FLOAT16(2),
    /** bfloat16 (round to nearest even), 2 bytes: 8 significant bits, float32's range. */
    BFLOAT16(2);

    private final int bytes;

    StatePrecision(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per stored value. */
    public int bytesPerValue() {
        return bytes;
    }

    /** Whether storing a value changes it. */
    public boolean lossy() {
        return this != FLOAT32;
    }

    /** What {@code v} becomes when stored and read back. */
    public float round(float v) {
        switch (this) {
            case FLOAT16: return Half.round(v);
            case BFLOAT16: return bfloat16ToFloat(floatToBfloat16(v));
            default: return v;
        }
    }

    /** Rounds every value of {@code data} to this precision, in place. */
    public void roundInPlace(float[] data) {
        roundInPlace(data, 0, data.length);
    }

    /**
     * Rounds values {@code [from, to)} of {@code data} to this precision, in place (value by value, so rounding
     * a state in parts, each once its last change is made, equals rounding it whole at the end).
     */
    public void roundInPlace(float[] data, int from, int to) {
        if (!lossy()) {
            return;
        }
        for (int i = from; i < to; i++) {
            data[i] = round(data[i]);
        }
    }

    /** Writes {@code data} into {@code out} (little-endian, at its position) in this precision. */
    public void encode(float[] data, ByteBuffer out) {
        switch (this) {
            case FLOAT32:
                out.asFloatBuffer().put(data);
                out.position(out.position() + 4 * data.length);
                break;
            case FLOAT16:
                for (float v : data) {
                    out.putShort(Half.fromFloat(v));
                }
                break;
            case BFLOAT16:
                for (float v : data) {
                    out.putShort(floatToBfloat16(v));
                }
                break;
            default:
                throw new IllegalStateException(name());
        }
    }

    /** Reads {@code data.length} values in this precision from {@code in} (little-endian, at its position). */
    public void decode(ByteBuffer in, float[] data) {
        switch (this) {
            case FLOAT32:
                in.asFloatBuffer().get(data);
                in.position(in.position() + 4 * data.length);
                break;
            case FLOAT16:
                for (int i = 0; i < data.length; i++) {
                    data[i] = Half.toFloat(in.getShort());
                }
                break;
            case BFLOAT16:
                for (int i = 0; i < data.length; i++) {
                    data[i] = bfloat16ToFloat(in.getShort());
                }
                break;
            default:
                throw new IllegalStateException(name());
        }
    }

    /** The upper half of a float, rounded to nearest even; NaN stays NaN. */
    static short floatToBfloat16(float v) {
        int x = Float.floatToRawIntBits(v);
        if ((x & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((x >>> 16) | 0x40); // quiet NaN
        }
        int rounding = 0x7FFF + ((x >>> 16) & 1);
        return (short) ((x + rounding) >>> 16);
    }

    static float bfloat16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }
}
