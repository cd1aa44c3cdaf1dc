package dev.flinkrwkv.tensor;

/**
 * bfloat16 conversions. A bfloat16 is the top 16 bits of a float32 (sign, the 8 exponent bits, 7 mantissa
 * bits), so widening it is a shift, exact for every value, NaN and subnormals included.
 */
public final class BFloat16 {
    private BFloat16() {}

    /** The float value of bfloat16 bits {@code b}. */
    public static float toFloat(short b) {
        return Float.intBitsToFloat(b << 16);
    }

    /**
     * Rounds a float to the nearest bfloat16, ties to even (as PyTorch's {@code tensor.to(torch.bfloat16)}
     * does); values beyond the largest finite bfloat16 round to infinity. A NaN stays a NaN with its sign
     * and top mantissa bits, made quiet (the rounding alone could carry a NaN whose set bits are all in the
     * low half into an infinity).
     */
    public static short fromFloat(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((x >>> 16) | 0x0040);
        }
        return (short) ((x + 0x7FFF + ((x >>> 16) & 1)) >>> 16);
    }

    /** Rounds to bfloat16 and back: what a float becomes when stored as BF16. */
    public static float round(float f) {
        return toFloat(fromFloat(f));
    }
}
