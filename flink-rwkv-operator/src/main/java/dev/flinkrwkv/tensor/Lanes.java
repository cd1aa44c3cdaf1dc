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
 * The vector shapes, of the {@link VectorWidth} chosen for this process (the matrix kernel and RWKV-7's
 * state updates take theirs from here), and the one-vector decoders the storage types' vector kernels
 * share. Like every class that names {@code jdk.incubator.vector}, it is loaded only by a vector kernel, so
 * the storage types work without the module (a class is verified as a whole when loaded, and verifying
 * vector code loads the vector classes).
 *
 * <p>The decoders are small leaf methods on purpose: C2 inlines them into the loop nests that call them,
 * where their vectors stay in registers. A vector passed to or returned from a call C2 did not inline is
 * boxed, an allocation per call, so the helpers that are not leaf decoders take and return floats.
 */
public final class Lanes {
    private Lanes() {}

    /** Float vectors of {@link VectorWidth#BITS}: the species every vector kernel runs. */
    public static final VectorSpecies<Float> F = VectorWidth.BITS == 512 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    /** Lanes of a float vector. */
    public static final int L = VectorWidth.LANES;
    /** Int vectors of as many lanes. */
    static final VectorSpecies<Integer> I = VectorWidth.BITS == 512 ? IntVector.SPECIES_512 : IntVector.SPECIES_256;
    /** Short vectors of as many lanes (the 16-bit floats of one float vector). */
    static final VectorSpecies<Short> S = VectorWidth.BITS == 512 ? ShortVector.SPECIES_256 : ShortVector.SPECIES_128;
    /** Byte vectors of as many lanes (the byte quants of one float vector). */
    static final VectorSpecies<Byte> BL = VectorWidth.BITS == 512 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    /** The 16 bytes of nibbles of a 4- or 5-bit block. */
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** Parts of a block of 32 values: one float vector each. */
    static final int PARTS = Blocks.VALUES / L;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** 0, 1, .., L-1: lane j of part p of a block holds value Lp + j, whose Q5 high bit is bit Lp + j of qh. */
    static final IntVector LANE = IntVector.zero(I).addIndex(1);

    /** One vector of 16-bit floats at byte {@code p}, widened by a shift, a mask and a scale ({@link SixteenBit.Vectors}). */
    static FloatVector wideVector(ByteBuffer d, int p, int shift, int mask, float scale) {
        IntVector h = (IntVector) ShortVector.fromByteBuffer(S, d, p, LE).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretAsFloats().mul(scale);
    }

    /** As {@link #wideVector(ByteBuffer, int, int, int, float)}, from 16-bit floats on the heap. */
    static FloatVector wideVector(short[] d, int p, int shift, int mask, float scale) {
        IntVector h = (IntVector) ShortVector.fromArray(S, d, p).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretAsFloats().mul(scale);
    }

    /** One 16-bit float widened as {@link #wideVector(ByteBuffer, int, int, int, float)} widens a vector of them. */
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
     * One vector of signed byte quants at {@code qs[p]} times their block's scale: {@code q*d}. The bytes of
     * one vector loaded on their own and widened (one load-and-extend instruction) measured faster than one
     * 32-byte load whose parts are then extracted.
     */
    static FloatVector q8(byte[] qs, int p, float scale) {
        return ((FloatVector) ByteVector.fromArray(BL, qs, p).convertShape(VectorOperators.B2F, F, 0)).mul(scale);
    }

    /**
     * As {@link #q8(byte[], int, float)} for the types with a minimum: {@code q*d + m} as one fused
     * multiply-add, one rounding (every path of Q4_1 and Q5_1 decodes so, and one operation fewer per
     * vector than a product and a sum).
     */
    static FloatVector q8(byte[] qs, int p, float scale, float min) {
        return ((FloatVector) ByteVector.fromArray(BL, qs, p).convertShape(VectorOperators.B2F, F, 0)).fma(scale, min);
    }

    /** As {@link #q8(byte[], int, float)}, from the mapped bytes. */
    static FloatVector q8(ByteBuffer d, int p, float scale) {
        return ((FloatVector) ByteVector.fromByteBuffer(BL, d, p, LE).convertShape(VectorOperators.B2F, F, 0)).mul(scale);
    }

    /**
     * The 4-bit values of part {@code part} (values {@code L*part ..}) of a block's 16 bytes of nibbles
     * {@code qs}, minus {@code offset}: values 0-15 are the low nibbles of bytes 0-15, values 16-31 their
     * high nibbles (8 lanes: parts 0 and 1 low, bytes 0-7 and 8-15, parts 2 and 3 high; 16 lanes: part 0
     * low, part 1 high).
     */
    static IntVector q4(ByteVector qs, int part, int offset) {
        int first = L * part;
        IntVector b = (IntVector) qs.convertShape(VectorOperators.B2I, I, first % 16 / L);
        IntVector nibble = first < 16 ? b.and(0x0F) : b.lanewise(VectorOperators.ASHR, 4).and(0x0F);
        return offset == 0 ? nibble : nibble.sub(offset);
    }

    /** As {@link #q4} with the fifth bit of value e taken from bit e of {@code qh}. */
    static IntVector q5(ByteVector qs, int qh, int part, int offset) {
        IntVector high = IntVector.broadcast(I, qh >>> (L * part)).lanewise(VectorOperators.LSHR, LANE)
                .and(1).lanewise(VectorOperators.LSHL, 4);
        IntVector q = q4(qs, part, 0).or(high);
        return offset == 0 ? q : q.sub(offset);
    }
}
