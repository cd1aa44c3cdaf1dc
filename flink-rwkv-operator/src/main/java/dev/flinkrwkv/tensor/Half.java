package dev.flinkrwkv.tensor;

/** IEEE binary16 conversions (Java 17 has no {@code Float.float16ToFloat}). */
public final class Half {
    private Half() {}

    /** Every half value as a float: the conversion is exact, subnormals included. */
    private static final float[] TO_FLOAT = new float[65536];

    static {
        for (int h = 0; h < 65536; h++) {
            TO_FLOAT[h] = decode((short) h);
        }
    }

    /** The float value of half bits {@code h}, by table. */
    public static float toFloat(short h) {
        return TO_FLOAT[h & 0xFFFF];
    }

    private static float decode(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            // zero or subnormal: mant * 2^-24, exact in float
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** Rounds a float to the nearest half, ties to even (as F16C's {@code vcvtps2ph} with mode 0 does). */
    public static short fromFloat(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 16) & 0x8000;
        int exp = (x >>> 23) & 0xFF;
        int mant = x & 0x7FFFFF;
        if (exp == 0xFF) {
            // infinity or NaN (keep NaN quiet and non-zero)
            return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1F) {
            return (short) (sign | 0x7C00); // overflow to infinity
        }
        if (e <= 0) {
            // subnormal half (or zero): shift the full significand into place and round
            if (e < -10) {
                return (short) sign;
            }
            int m = mant | 0x800000;
            int shift = 14 - e;
            int half = m >>> shift;
            int rem = m & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) {
            half++; // may carry into the exponent, which is still the right rounding
        }
        return (short) (sign | half);
    }

    /** Rounds to half and back: what a float becomes when stored as FP16. */
    public static float round(float f) {
        return toFloat(fromFloat(f));
    }
}
