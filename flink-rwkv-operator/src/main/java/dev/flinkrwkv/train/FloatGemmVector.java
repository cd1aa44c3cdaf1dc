package dev.flinkrwkv.train;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatGemm} with {@code jdk.incubator.vector}: register tiles of 4 rows of a by 16 columns of b
 * (8 accumulators of 8 lanes), so each step over k loads two vectors of b and four values of a for eight
 * fused multiply-adds. Edge tiles take 1 row or 8 columns at a time; columns past the last multiple of 8
 * fall to scalar {@link Math#fma}, which rounds exactly as a lane does. Only loaded when the module is
 * present (see {@link FloatGemm#get()}). {@code rs} and {@code cs} are a's row and column strides.
 */
final class FloatGemmVector extends FloatGemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int L = 8;

    FloatGemmVector() {
        if (FloatVector.SPECIES_PREFERRED.length() < L) {
            throw new UnsupportedOperationException("needs 256-bit float vectors");
        }
    }

    @Override
    void multiply(float[] a, int rs, int cs, int m, int k, float[] b, int bOff, int n, float[] c) {
        int n16 = n - n % (2 * L), n8 = n - n % L;
        int i = 0;
        for (; i + 3 < m; i += 4) {
            int j = 0;
            for (; j < n16; j += 2 * L) {
                tile4x16(a, rs, cs, i, k, b, bOff, n, c, j);
            }
            for (; j < n8; j += L) {
                for (int r = i; r < i + 4; r++) {
                    row8(a, rs, cs, r, k, b, bOff, n, c, j);
                }
            }
            for (int r = i; r < i + 4; r++) {
                tail(a, rs, cs, r, k, b, bOff, n, c, n8);
            }
        }
        for (; i < m; i++) {
            for (int j = 0; j < n8; j += L) {
                row8(a, rs, cs, i, k, b, bOff, n, c, j);
            }
            tail(a, rs, cs, i, k, b, bOff, n, c, n8);
        }
    }

    private static void tile4x16(float[] a, int rs, int cs, int i, int k, float[] b, int bOff, int n, float[] c,
                                 int j) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00;
        int a0 = i * rs, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs;
        for (int p = 0; p < k; p++) {
            int bo = bOff + p * n + j;
            FloatVector b0 = FloatVector.fromArray(F, b, bo), b1 = FloatVector.fromArray(F, b, bo + L);
            int ap = p * cs;
            FloatVector x = FloatVector.broadcast(F, a[a0 + ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, a[a1 + ap]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, a[a2 + ap]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, a[a3 + ap]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
        }
        int co = i * n + j;
        c00.intoArray(c, co);
        c01.intoArray(c, co + L);
        c10.intoArray(c, co + n);
        c11.intoArray(c, co + n + L);
        c20.intoArray(c, co + 2 * n);
        c21.intoArray(c, co + 2 * n + L);
        c30.intoArray(c, co + 3 * n);
        c31.intoArray(c, co + 3 * n + L);
    }

    private static void row8(float[] a, int rs, int cs, int i, int k, float[] b, int bOff, int n, float[] c, int j) {
        FloatVector acc = FloatVector.zero(F);
        int ao = i * rs;
        for (int p = 0; p < k; p++) {
            acc = FloatVector.broadcast(F, a[ao + p * cs]).fma(FloatVector.fromArray(F, b, bOff + p * n + j), acc);
        }
        acc.intoArray(c, i * n + j);
    }

    private static void tail(float[] a, int rs, int cs, int i, int k, float[] b, int bOff, int n, float[] c,
                             int from) {
        int ao = i * rs;
        for (int j = from; j < n; j++) {
            float acc = 0f;
            for (int p = 0; p < k; p++) {
                acc = Math.fma(a[ao + p * cs], b[bOff + p * n + j], acc);
            }
            c[i * n + j] = acc;
        }
    }
}
