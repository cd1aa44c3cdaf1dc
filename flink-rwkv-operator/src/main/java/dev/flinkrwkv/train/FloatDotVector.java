package dev.flinkrwkv.train;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** {@link FloatDot} with the eight partial sums in the lanes of one vector (multiply, then add: two roundings). */
final class FloatDotVector extends FloatDot {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

    @Override
    float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int j = 0;
        for (; j + 7 < n; j += 8) {
            acc = FloatVector.fromArray(F, a, ao + j).mul(FloatVector.fromArray(F, b, bo + j)).add(acc);
        }
        float s0 = acc.lane(0);
        for (; j < n; j++) {
            s0 += a[ao + j] * b[bo + j];
        }
        return ((s0 + acc.lane(1)) + (acc.lane(2) + acc.lane(3))) + ((acc.lane(4) + acc.lane(5))
                + (acc.lane(6) + acc.lane(7)));
    }
}
