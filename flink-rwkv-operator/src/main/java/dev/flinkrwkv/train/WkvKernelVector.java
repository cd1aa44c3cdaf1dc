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
            acc.intoArray(x.lanes, 0);
            float sai = -sum(x.lanes);
            sa[o + i] = sai;
            FloatVector viV = FloatVector.broadcast(F, v[o + i]), saiV = FloatVector.broadcast(F, sai);
            FloatVector yAcc = FloatVector.zero(F);
            for (int j = 0; j < s; j += L) {
                FloatVector n = FloatVector.fromArray(F, st, before + j).mul(FloatVector.fromArray(F, w, o + j))
                        .add(FloatVector.fromArray(F, k, o + j).mul(viV))
                        .add(FloatVector.fromArray(F, beta, o + j).mul(saiV));
                n.intoArray(st, after + j);
                yAcc = n.mul(FloatVector.fromArray(F, r, o + j)).add(yAcc);
            }
            yAcc.intoArray(x.lanes, 0);
            y[o + i] = sum(x.lanes);
        }
    }

    @Override
    void backward(Layer x, Gradients g, int s, int o, int rows, int prev, int next) {
        float[] kk = x.kk, beta = x.beta, w = x.w, k = x.k, v = x.v, r = x.r, st = x.states, sa = x.sa;
        float[] dy = g.dy, dr = g.dr, dw = g.dw, dk = g.dk, dv = g.dv, dkk = g.dkk, dS = g.dS,
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
            withBeta.intoArray(x.lanes, 0);
            float dsa = sum(x.lanes) + dyi * rBeta;
            withK.intoArray(x.lanes, 0);
            dv[o + i] += sum(x.lanes) + dyi * rK;
            // The row's scalars broadcast once, not in every multiply: the JIT stops turning Vector API calls into
            // vector instructions once a method has inlined too much code, and every call left over allocates.
            FloatVector dyV = FloatVector.broadcast(F, dyi), vV = FloatVector.broadcast(F, vi),
                    saV = FloatVector.broadcast(F, sai), dsaV = FloatVector.broadcast(F, dsa);
            for (int j = 0; j < s; j += L) {
                int oj = o + j, rj = row + j;
                FloatVector d = FloatVector.fromArray(F, dS, rj).add(FloatVector.fromArray(F, r, oj).mul(dyV));
                FloatVector before = FloatVector.fromArray(F, st, prev + rj);
                FloatVector.fromArray(F, dr, oj).add(FloatVector.fromArray(F, st, next + rj).mul(dyV))
                        .intoArray(dr, oj);
                FloatVector.fromArray(F, dw, oj).add(d.mul(before)).intoArray(dw, oj);
                FloatVector.fromArray(F, dk, oj).add(d.mul(vV)).intoArray(dk, oj);
                FloatVector.fromArray(F, dBeta, j).add(d.mul(saV)).intoArray(dBeta, j);
                FloatVector.fromArray(F, dkk, oj).sub(before.mul(dsaV)).intoArray(dkk, oj);
                d.mul(FloatVector.fromArray(F, w, oj)).sub(FloatVector.fromArray(F, kk, oj).mul(dsaV))
                        .intoArray(dS, rj);
            }
        }
        betaBackward(x, g, s, o);
    }

    private static float dot(float[] a, int ao, float[] b, int bo, int n, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int j = 0; j < n; j += L) {
            acc = FloatVector.fromArray(F, a, ao + j).mul(FloatVector.fromArray(F, b, bo + j)).add(acc);
        }
        acc.intoArray(lanes, 0);
        return sum(lanes);
    }

    /**
     * The eight partials, stored into 8 floats of scratch, added as {@link FloatDot} adds them. Every caller
     * stores its vector itself: a vector passed to a method the JIT happens not to inline is allocated, and a
     * kernel that allocates per row runs several times slower.
     */
    private static float sum(float[] p) {
        return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
    }
}
