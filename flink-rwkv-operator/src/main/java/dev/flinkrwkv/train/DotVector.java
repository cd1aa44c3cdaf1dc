package dev.flinkrwkv.train;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/** {@link Dot} with the four partial sums in the lanes of one vector (multiply, then add: two roundings). */
final class DotVector extends Dot {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_256;

    @Override
    double dot(double[] a, int ao, double[] b, int bo, int n) {
        DoubleVector acc = DoubleVector.zero(D);
        int j = 0;
        for (; j + 3 < n; j += 4) {
            acc = DoubleVector.fromArray(D, a, ao + j).mul(DoubleVector.fromArray(D, b, bo + j)).add(acc);
        }
        double s0 = acc.lane(0);
        for (; j < n; j++) {
            s0 += a[ao + j] * b[bo + j];
        }
        return (s0 + acc.lane(1)) + (acc.lane(2) + acc.lane(3));
    }
}
