package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.tensor.Lanes;
import dev.flinkrwkv.tensor.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Wkv7}'s state reads with the {@code jdk.incubator.vector} API, one vector of the process's
 * {@link VectorWidth} at a time (the Vector API matrix kernel's width). Only loaded by name when that kernel
 * exists, so the plain-Java path works without the incubator module.
 *
 * <p>The state update is the plain-Java one ({@link Wkv7#rowUpdates}, which C2's loop vectorizer turns into
 * vector code, same bits). A Vector API form of it (three loads, two broadcasts, five lanewise operations
 * and a store per vector) compiled, inlined into {@link Wkv7#step}, to code that allocated its vectors as
 * objects in some JVM starts and not in others, with the same inlining tree: such a start collected garbage
 * several times a second for as long as it ran, and its single stream ran at a fraction of its speed.
 * The loop vectorizer's code allocates nothing.
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
}
