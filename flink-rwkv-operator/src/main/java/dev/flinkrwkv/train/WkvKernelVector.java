package dev.flinkrwkv.train;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link WkvKernel} with {@code jdk.incubator.vector}, for head sizes that are a multiple of 8. The same loops as
 * the plain kernel, eight columns at a time; a dot product keeps {@link FloatDot}'s eight partials in the
 * lanes of one vector.
 */
final class WkvKernelVector extends WkvKernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int L = 8;

    WkvKernelVector() {
        if (FloatVector.SPECIES_PREFERRED.length() < L) {
            throw new UnsupportedOperationException("needs 256-bit float vectors");
        }
    }

    @Override
    void forward(Layer x, int s, int o, int rows, int prev, int next, double[] y) {
        float[] kk = x.kk, beta = x.beta, w = x.w, k = x.k, v = x.v, r = x.r, st = x.states, sa = x.sa;
        for (int i = 0; i < s; i++) {
            int before = prev + rows + i * s, after = next + rows + i * s;
            FloatVector acc = FloatVector.zero(F);
            for (int j = 0; j < s; j += L) {
                acc = FloatVector.fromArray(F, kk, o + j).mul(FloatVector.fromArray(F, st, before + j)).add(acc);
            }
            float sai = -sum(acc, x.lanes);
            sa[o + i] = sai;
            float vi = v[o + i];
            FloatVector yAcc = FloatVector.zero(F);
            for (int j = 0; j < s; j += L) {
                FloatVector n = FloatVector.fromArray(F, st, before + j).mul(FloatVector.fromArray(F, w, o + j))
                        .add(FloatVector.fromArray(F, k, o + j).mul(vi))
                        .add(FloatVector.fromArray(F, beta, o + j).mul(sai));
                n.intoArray(st, after + j);
                yAcc = n.mul(FloatVector.fromArray(F, r, o + j)).add(yAcc);
            }
            y[o + i] = sum(yAcc, x.lanes);
        }
    }

    @Override
    void backward(Layer x, Gradients g, int s, int o, int rows, int prev, int next) {
        float[] kk = x.kk, a = x.a, beta = x.beta, w = x.w, k = x.k, v = x.v, r = x.r, st = x.states, sa = x.sa;
        float[] dy = g.dy, dr = g.dr, dw = g.dw, dk = g.dk, dv = g.dv, dkk = g.dkk, da = g.da, dS = g.dS,
                dBeta = g.dBeta;
        java.util.Arrays.fill(dBeta, 0, s, 0f);
        // As in the plain kernel, the sums of the row's new dS (dS + dy_i r) split into the old row's and r's.
        float rBeta = dot(r, o, beta, o, s, x.lanes), rK = dot(r, o, k, o, s, x.lanes);
        for (int i = 0; i < s; i++) {
            int row = rows + i * s;
            float dyi = dy[o + i], vi = v[o + i], sai = sa[o + i];
            FloatVector withBeta = FloatVector.zero(F), withK = withBeta;
            for (int j = 0; j < s; j += L) {
                FloatVector d = FloatVector.fromArray(F, dS, row + j);
                withBeta = d.mul(FloatVector.fromArray(F, beta, o + j)).add(withBeta);
                withK = d.mul(FloatVector.fromArray(F, k, o + j)).add(withK);
            }
            float dsa = sum(withBeta, x.lanes) + dyi * rBeta;
            dv[o + i] += sum(withK, x.lanes) + dyi * rK;
            for (int j = 0; j < s; j += L) {
                int oj = o + j, rj = row + j;
                FloatVector d = FloatVector.fromArray(F, dS, rj).add(FloatVector.fromArray(F, r, oj).mul(dyi));
                FloatVector before = FloatVector.fromArray(F, st, prev + rj);
                FloatVector.fromArray(F, dr, oj).add(FloatVector.fromArray(F, st, next + rj).mul(dyi))
                        .intoArray(dr, oj);
                FloatVector.fromArray(F, dw, oj).add(d.mul(before)).intoArray(dw, oj);
                FloatVector.fromArray(F, dk, oj).add(d.mul(vi)).intoArray(dk, oj);
                FloatVector.fromArray(F, dBeta, j).add(d.mul(sai)).intoArray(dBeta, j);
                FloatVector.fromArray(F, dkk, oj).sub(before.mul(dsa)).intoArray(dkk, oj);
                d.mul(FloatVector.fromArray(F, w, oj)).sub(FloatVector.fromArray(F, kk, oj).mul(dsa))
                        .intoArray(dS, rj);
            }
        }
        // beta = kk * a. Plain Java: one pass over S values, and the JIT allocated boxes for this loop's vectors.
        for (int j = 0; j < s; j++) {
            dkk[o + j] += dBeta[j] * a[o + j];
            da[o + j] += dBeta[j] * kk[o + j];
        }
    }

    private static float dot(float[] a, int ao, float[] b, int bo, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int j = 0; j < n; j += L) {
            acc = FloatVector.fromArray(F, a, ao + j).mul(FloatVector.fromArray(F, b, bo + j)).add(acc);
        }
        return sum(acc, lanes);
    }

    /**
     * The eight partials added as {@link FloatDot} adds them. They pass through {@code lanes} (8 floats of
     * scratch) so that only an array crosses into {@link #sum(float[])}: a vector passed to a method the JIT
     * does not inline is allocated.
     */
    private static float sum(FloatVector p, float[] lanes) {
        p.intoArray(lanes, 0);
        return sum(lanes);
    }

    private static float sum(float[] p) {
        return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
    }
}
