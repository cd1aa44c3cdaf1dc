package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.math.MatMulKernel;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** RWKV-7's state kernels: the Vector API form against the plain-Java one. */
class Wkv7Test {
    static final Wkv7 SCALAR = Wkv7.scalar();
    static final Wkv7 VECTOR = Wkv7.vector();

    static float[] floats(int n, Random rnd) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    @Test
    void theFormFollowsTheMatrixKernel() {
        assertNotNull(VECTOR, "the tests run with --add-modules jdk.incubator.vector on an AVX2 CPU");
        assertSame(VECTOR, Wkv7.forKernel(MatMulKernel.vector()));
        assertSame(SCALAR, Wkv7.forKernel(MatMulKernel.scalar()));
    }

    @Test
    void rowUpdatesAreAsDefined() {
        Random rnd = new Random(8);
        for (int n : new int[] {4, 13, 64}) {
            int rows = 6, so = 3, uo = 5, vo = 1, ao = 2;
            float[] s = floats(so + rows * n + 2, rnd);
            float[] w = floats(uo + n, rnd), k = floats(uo + n, rnd), b = floats(uo + n, rnd);
            float[] v = floats(vo + rows, rnd), sa = floats(ao + rows, rnd);
            float[] expected = s.clone();
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < n; j++) {
                    int at = so + i * n + j;
                    expected[at] = (expected[at] * w[uo + j] + v[vo + i] * k[uo + j]) - sa[ao + i] * b[uo + j];
                }
            }
            float[] scalar = s.clone(), vector = s.clone();
            SCALAR.rowUpdates(scalar, so, rows, n, w, k, b, uo, v, vo, sa, ao);
            VECTOR.rowUpdates(vector, so, rows, n, w, k, b, uo, v, vo, sa, ao);
            assertArrayEquals(expected, scalar, "plain Java, n " + n);
            assertArrayEquals(expected, vector, "the Vector API form, n " + n);
        }
    }

    /**
     * The two forms sum in different orders (so they agree to rounding only), but each gives a row the same
     * bits wherever the row lies and however many rows are taken at once: a key's bits do not depend on its
     * batch.
     */
    @Test
    void rowDotProductsOfBothFormsAgreeAndDoNotDependOnTheRowsAround() {
        Random rnd = new Random(7);
        for (int n : new int[] {4, 13, 64}) {
            int rows = 5;
            float[] s = floats(3 + rows * n, rnd);
            float[] u = floats(2 + n, rnd), v = floats(2 + n, rnd);
            float[][] outs = new float[4][1 + rows];
            SCALAR.rowDots2(s, 3, rows, n, u, v, 2, outs[0], outs[1], 1);
            VECTOR.rowDots2(s, 3, rows, n, u, v, 2, outs[2], outs[3], 1);
            for (int r = 0; r < rows; r++) {
                double eu = 0, ev = 0, scale = 0;
                for (int j = 0; j < n; j++) {
                    eu += (double) s[3 + r * n + j] * u[2 + j];
                    ev += (double) s[3 + r * n + j] * v[2 + j];
                    scale += Math.abs(s[3 + r * n + j]) * (Math.abs(u[2 + j]) + Math.abs(v[2 + j]));
                }
                for (int k = 0; k < 4; k += 2) {
                    assertEquals(eu, outs[k][1 + r], 1e-6 * scale, "n " + n + " row " + r + " form " + k);
                    assertEquals(ev, outs[k + 1][1 + r], 1e-6 * scale, "n " + n + " row " + r + " form " + k);
                }
                float[] row = java.util.Arrays.copyOfRange(s, 3 + r * n, 3 + (r + 1) * n);
                float[][] alone = new float[4][1];
                SCALAR.rowDots2(row, 0, 1, n, u, v, 2, alone[0], alone[1], 0);
                VECTOR.rowDots2(row, 0, 1, n, u, v, 2, alone[2], alone[3], 0);
                for (int k = 0; k < 4; k++) {
                    assertEquals(Float.floatToRawIntBits(outs[k][1 + r]), Float.floatToRawIntBits(alone[k][0]),
                            "n " + n + " row " + r + " output " + k + ": alone as in the head");
                }
            }
        }
    }
}
