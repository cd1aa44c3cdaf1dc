package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.tensor.Lanes;
import dev.flinkrwkv.tensor.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Wkv7}'s state reads and updates with the {@code jdk.incubator.vector} API, one vector of the
 * process's {@link VectorWidth} at a time (the Vector API matrix kernel's width). Only loaded by name when
 * that kernel exists, so the plain-Java path works without the incubator module.
 */
final class VectorWkv7 extends Wkv7 {
    private static final VectorSpecies<Float> F = Lanes.F;
    private static final int L = Lanes.L;

    /** One vector accumulator per sum over the one-vector chunks, lanes reduced, then the scalar tail. */
    @Override
    void rowDots2(float[] s, int so, int rows, int n, float[] u, float[] v, int uo, float[] outU, float[] outV, int oo) {
        int vn = n - n % L;
        for (int r = 0; r < rows; r++) {
            int row = so + r * n;
            FloatVector au = FloatVector.zero(F), av = FloatVector.zero(F);
            for (int j = 0; j < vn; j += L) {
                FloatVector x = FloatVector.fromArray(F, s, row + j);
                au = x.fma(FloatVector.fromArray(F, u, uo + j), au);
                av = x.fma(FloatVector.fromArray(F, v, uo + j), av);
            }
            float su = au.reduceLanes(VectorOperators.ADD), sv = av.reduceLanes(VectorOperators.ADD);
            for (int j = vn; j < n; j++) {
                su += s[row + j] * u[uo + j];
                sv += s[row + j] * v[uo + j];
            }
            outU[oo + r] = su;
            outV[oo + r] = sv;
        }
    }

    /** In place, one vector at a time, with the plain-Java form's roundings (no fused multiply-add). */
    @Override
    void rowUpdates(float[] s, int so, int rows, int n, float[] w, float[] k, float[] b, int uo,
                    float[] v, int vo, float[] sa, int ao) {
        int vn = n - n % L;
        for (int i = 0; i < rows; i++) {
            int row = so + i * n;
            float vi = v[vo + i], si = sa[ao + i];
            for (int j = 0; j < vn; j += L) {
                FloatVector x = FloatVector.fromArray(F, s, row + j).mul(FloatVector.fromArray(F, w, uo + j));
                x = x.add(FloatVector.fromArray(F, k, uo + j).mul(vi));
                x.sub(FloatVector.fromArray(F, b, uo + j).mul(si)).intoArray(s, row + j);
            }
            for (int j = vn; j < n; j++) {
                s[row + j] = (s[row + j] * w[uo + j] + vi * k[uo + j]) - si * b[uo + j];
            }
        }
    }
}
