package dev.flinkrwkv.tensor;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BFloat16Test {
    private static short bits(float f) {
        return BFloat16.fromFloat(f);
    }

    @Test
    void widensEveryValueExactlyAndBack() {
        for (int b = 0; b < 65536; b++) {
            float f = BFloat16.toFloat((short) b);
            assertEquals(b << 16, Float.floatToRawIntBits(f), "bits " + b);
            if (!Float.isNaN(f)) {
                assertEquals((short) b, bits(f), "round trip of bits " + b);
            }
        }
    }

    @Test
    void roundsToNearestTiesToEven() {
        float ulp = 0x1p-7f; // of bfloat16 at 1.0
        assertEquals(1f, BFloat16.round(1f + ulp / 2), "a tie goes to the even 1.0");
        assertEquals(1f + 2 * ulp, BFloat16.round(1f + 3 * ulp / 2), "a tie goes to the even 1 + 2 ulp");
        assertEquals(1f + ulp, BFloat16.round(1f + ulp / 2 + 0x1p-20f), "above the tie rounds up");
        assertEquals(-1f, BFloat16.round(-1f - ulp / 2), "ties to even for negatives too");
        assertEquals((short) 0x8000, bits(-0f));
        assertEquals(Float.POSITIVE_INFINITY, BFloat16.round(Float.MAX_VALUE), "beyond the largest bfloat16");
        assertEquals(Float.NEGATIVE_INFINITY, BFloat16.round(Float.NEGATIVE_INFINITY));
        assertEquals(0x1p-133f, BFloat16.round(0x1p-133f), "a subnormal bfloat16 stays exact");
    }

    @Test
    void keepsNaNs() {
        for (int x : new int[] {0x7F800001, 0xFF800001, 0x7FC00000, 0x7FFFFFFF, 0xFFBFFFFF}) {
            short b = bits(Float.intBitsToFloat(x));
            assertTrue(Float.isNaN(BFloat16.toFloat(b)), Integer.toHexString(x));
            assertEquals(x >>> 31, (b >>> 15) & 1, "sign of " + Integer.toHexString(x));
        }
    }

    /** Against the definition: of the two bfloat16s around x, the nearer (in exact double arithmetic), else the even one. */
    @Test
    void agreesWithTheDefinitionOnRandomFloats() {
        SplittableRandom rnd = new SplittableRandom(16);
        for (int n = 0; n < 200_000; n++) {
            float x = Float.intBitsToFloat(rnd.nextInt());
            if (Float.isNaN(x) || Float.isInfinite(x)) {
                continue;
            }
            int xb = Float.floatToRawIntBits(x);
            float lo = Float.intBitsToFloat(xb & 0xFFFF0000);
            // one bfloat16 ulp further from zero, in double: past the largest bfloat16 it is 2^128, infinity as a float
            double hi = lo + Math.copySign(Math.ulp(lo) * 65536.0, x);
            double dLo = Math.abs((double) x - lo), dHi = Math.abs(hi - x);
            float want = dLo < dHi ? lo : dHi < dLo ? (float) hi : ((xb >>> 16) & 1) == 0 ? lo : (float) hi;
            assertEquals(want, BFloat16.round(x), Float.toHexString(x));
        }
    }
}
