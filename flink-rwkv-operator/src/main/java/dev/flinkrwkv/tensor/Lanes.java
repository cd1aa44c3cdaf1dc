package dev.flinkrwkv.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The vector shapes and the 8-value decoders the storage types' vector kernels share. Like every class that
 * names {@code jdk.incubator.vector}, it is loaded only by a vector kernel, so the storage types work
 * without the module (a class is verified as a whole when loaded, and verifying vector code loads the
 * vector classes).
 *
 * <p>The decoders are small leaf methods on purpose: C2 inlines them into the loop nests that call them,
 * where their vectors stay in registers. A vector passed to or returned from a call C2 did not inline is
 * boxed, an allocation per call, so the helpers that are not leaf decoders take and return floats.
 */
final class Lanes {
    private Lanes() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_128;
    static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** Lanes of a float vector. */
    static final int L = 8;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** 0, 1, .., 7: lane j of part p of a block holds value 8p + j, whose Q5 high bit is bit 8p + j of qh. */
    static final IntVector LANE = IntVector.zero(I).addIndex(1);

    /** Eight 16-bit floats at byte {@code p}, widened by a shift, a mask and a scale ({@link SixteenBit.Vectors}). */
    static FloatVector wide8(ByteBuffer d, int p, int shift, int mask, float scale) {
        IntVector h = (IntVector) ShortVector.fromByteBuffer(S, d, p, LE).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretAsFloats().mul(scale);
    }

    /** As {@link #wide8(ByteBuffer, int, int, int, float)}, from 16-bit floats on the heap. */
    static FloatVector wide8(short[] d, int p, int shift, int mask, float scale) {
        IntVector h = (IntVector) ShortVector.fromArray(S, d, p).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretAsFloats().mul(scale);
    }

    /** One 16-bit float widened as {@link #wide8(ByteBuffer, int, int, int, float)} widens eight. */
    static float wide(short h, int shift, int mask, float scale) {
        return Float.intBitsToFloat((h << shift) & mask) * scale;
    }

    /**
     * The (finite) half at byte {@code p}, a block's scale or minimum, widened as {@link Fp16} widens its
     * values for the vector kernels.
     */
    static float half(ByteBuffer d, int p) {
        return Float.intBitsToFloat((d.getShort(p) << 13) & 0x8FFFE000) * 0x1p112f;
    }

    static FloatVector floats(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    /**
     * Eight signed byte quants at {@code qs[p]} times their block's scale: {@code q*d}. Eight bytes loaded
     * on their own and widened (one load-and-extend instruction) measured faster than one 32-byte load
     * whose four parts are then extracted.
     */
    static FloatVector q8(byte[] qs, int p, float scale) {
        return ((FloatVector) ByteVector.fromArray(B8, qs, p).convertShape(VectorOperators.B2F, F, 0)).mul(scale);
    }

    /** As {@link #q8(byte[], int, float)}, from the mapped bytes. */
    static FloatVector q8(ByteBuffer d, int p, float scale) {
        return ((FloatVector) ByteVector.fromByteBuffer(B8, d, p, LE).convertShape(VectorOperators.B2F, F, 0)).mul(scale);
    }

    /**
     * The 4-bit values of part {@code part} of a block's 16 bytes of nibbles {@code qs}, minus
     * {@code offset}: parts 0 and 1 are the low nibbles of bytes 0-7 and 8-15, parts 2 and 3 their high nibbles.
     */
    static IntVector q4(ByteVector qs, int part, int offset) {
        IntVector b = (IntVector) qs.convertShape(VectorOperators.B2I, I, part & 1);
        IntVector nibble = part < 2 ? b.and(0x0F) : b.lanewise(VectorOperators.ASHR, 4).and(0x0F);
        return offset == 0 ? nibble : nibble.sub(offset);
    }

    /** As {@link #q4} with the fifth bit of value e taken from bit e of {@code qh}. */
    static IntVector q5(ByteVector qs, int qh, int part, int offset) {
        IntVector high = IntVector.broadcast(I, qh >>> (8 * part)).lanewise(VectorOperators.LSHR, LANE)
                .and(1).lanewise(VectorOperators.LSHL, 4);
        IntVector q = q4(qs, part, 0).or(high);
        return offset == 0 ? q : q.sub(offset);
    }
}
