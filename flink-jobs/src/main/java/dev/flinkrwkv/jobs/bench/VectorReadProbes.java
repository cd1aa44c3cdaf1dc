package dev.flinkrwkv.jobs.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;

/**
 * The Vector API read probes of {@link ReadBandwidth}: the CPU's preferred vector width and 256 bits (what
 * the matrix kernel runs), each summing eight vectors per iteration into eight accumulators. One class per
 * width because a vector operation compiles to one instruction only where its species is a constant of the
 * compiled method; a species passed as an argument leaves boxed vectors and calls.
 */
final class VectorReadProbes {
    private VectorReadProbes() {
    }

    /** Called by name from {@link ReadBandwidth#probes()} once the module is known to be present. */
    public static Object[] all() {
        List<ReadBandwidth.Probe> out = new ArrayList<>();
        out.add(new Preferred());
        if (FloatVector.SPECIES_PREFERRED.vectorBitSize() > 256) { // narrower CPUs would only emulate 256 bits
            out.add(new Bits256());
        }
        return out.toArray();
    }

    private static String widthName(VectorSpecies<Float> s) {
        return s.vectorBitSize() + "-bit vectors";
    }

    /** The scalar rest of a range that is not a whole number of eight vectors. */
    private static double tail(float[] a, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += a[i];
        }
        return s;
    }

    static final class Preferred implements ReadBandwidth.Probe {
        private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

        @Override
        public String name() {
            return widthName(S);
        }

        @Override
        public double sum(float[] a, int from, int to) {
            int l = S.length();
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
            int i = from;
            for (; i <= to - 8 * l; i += 8 * l) {
                s0 = s0.add(FloatVector.fromArray(S, a, i));
                s1 = s1.add(FloatVector.fromArray(S, a, i + l));
                s2 = s2.add(FloatVector.fromArray(S, a, i + 2 * l));
                s3 = s3.add(FloatVector.fromArray(S, a, i + 3 * l));
                s4 = s4.add(FloatVector.fromArray(S, a, i + 4 * l));
                s5 = s5.add(FloatVector.fromArray(S, a, i + 5 * l));
                s6 = s6.add(FloatVector.fromArray(S, a, i + 6 * l));
                s7 = s7.add(FloatVector.fromArray(S, a, i + 7 * l));
            }
            return s0.add(s1).add(s2).add(s3).add(s4).add(s5).add(s6).add(s7).reduceLanes(VectorOperators.ADD) + tail(a, i, to);
        }
    }

    static final class Bits256 implements ReadBandwidth.Probe {
        private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;

        @Override
        public String name() {
            return widthName(S);
        }

        @Override
        public double sum(float[] a, int from, int to) {
            int l = S.length();
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
            int i = from;
            for (; i <= to - 8 * l; i += 8 * l) {
                s0 = s0.add(FloatVector.fromArray(S, a, i));
                s1 = s1.add(FloatVector.fromArray(S, a, i + l));
                s2 = s2.add(FloatVector.fromArray(S, a, i + 2 * l));
                s3 = s3.add(FloatVector.fromArray(S, a, i + 3 * l));
                s4 = s4.add(FloatVector.fromArray(S, a, i + 4 * l));
                s5 = s5.add(FloatVector.fromArray(S, a, i + 5 * l));
                s6 = s6.add(FloatVector.fromArray(S, a, i + 6 * l));
                s7 = s7.add(FloatVector.fromArray(S, a, i + 7 * l));
            }
            return s0.add(s1).add(s2).add(s3).add(s4).add(s5).add(s6).add(s7).reduceLanes(VectorOperators.ADD) + tail(a, i, to);
        }
    }
}
