package dev.flinkrwkv.train;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The analytic gradient of the chunk loss ({@link Rwkv7Chunk#backward}) against central finite differences,
 * in double precision, for every kind of parameter of a tiny RWKV-7 (2 layers, C = 32, two heads of 16,
 * T = 8, vocabulary 256), starting from a non-zero carried state.
 */
class GradientCheckTest {
    private static final double STEP = 1e-5;
    private static final double TOLERANCE = 1e-3;

    @Test
    void analyticGradientMatchesFiniteDifferencesForEveryParameterKind() {
        Rwkv7Shape shape = new Rwkv7Shape(256, 32, 2, 16, 64, 8, 8, 8, 8);
        Rwkv7Params model = new Rwkv7Params(shape);
        model.initialize(7);
        // The reference init zeroes several tensors (output, FFN value, LoRA up-projections), which would
        // make many gradients exactly zero; noise makes every path carry gradient.
        SplittableRandom rnd = new SplittableRandom(11);
        double[] p = model.values();
        for (int i = 0; i < p.length; i++) {
            p[i] += (2 * rnd.nextDouble() - 1) * 0.1;
        }
        int t = 8;
        int[] in = new int[t], target = new int[t];
        for (int i = 0; i < t; i++) {
            in[i] = rnd.nextInt(256);
            target[i] = rnd.nextInt(256);
        }
        double[] state0 = new double[shape.stateSize()];
        for (int i = 0; i < state0.length; i++) {
            state0[i] = (2 * rnd.nextDouble() - 1) * 0.5;
        }

        Rwkv7Chunk chunk = new Rwkv7Chunk(model, t);
        double[] grad = new double[model.size()];
        chunk.forward(in, target, t, state0.clone());
        chunk.backward(grad);

        Map<String, Double> worstByKind = new TreeMap<>();
        for (ParamTensor pt : model.tensors()) {
            double largest = 0;
            for (int e : elementsToCheck(pt, grad, rnd)) {
                int i = pt.offset() + e;
                double saved = p[i];
                p[i] = saved + STEP;
                double up = chunk.forward(in, target, t, state0.clone());
                p[i] = saved - STEP;
                double down = chunk.forward(in, target, t, state0.clone());
                p[i] = saved;
                double numeric = (up - down) / (2 * STEP);
                double analytic = grad[i];
                largest = Math.max(largest, Math.abs(analytic));
                double scale = Math.max(Math.abs(analytic), Math.abs(numeric));
                double err = scale < 1e-9 ? 0 : Math.abs(analytic - numeric) / scale;
                worstByKind.merge(pt.kind(), err, Math::max);
            }
            assertTrue(largest > 1e-6, pt.name() + " has no gradient at all");
        }
        worstByKind.forEach((k, e) -> System.out.printf("gradient check %-24s max rel err %.2e%n", k, e));
        assertEquals(expectedKinds(model.tensors()), worstByKind.keySet());
        worstByKind.forEach((k, e) -> assertTrue(e < TOLERANCE, k + ": relative error " + e));
    }

    /** The two elements with the largest analytic gradient and three random ones. */
    private static Collection<Integer> elementsToCheck(ParamTensor pt, double[] grad, SplittableRandom rnd) {
        TreeSet<Integer> out = new TreeSet<>();
        int best = 0, second = 0;
        for (int e = 0; e < pt.size(); e++) {
            double g = Math.abs(grad[pt.offset() + e]);
            if (g > Math.abs(grad[pt.offset() + best])) {
                second = best;
                best = e;
            } else if (e != best && g > Math.abs(grad[pt.offset() + second])) {
                second = e;
            }
        }
        out.add(best);
        out.add(second);
        for (int i = 0; i < 3; i++) {
            out.add(rnd.nextInt(pt.size()));
        }
        return out;
    }

    private static TreeSet<String> expectedKinds(List<ParamTensor> tensors) {
        List<String> kinds = new ArrayList<>();
        for (ParamTensor pt : tensors) {
            kinds.add(pt.kind());
        }
        return new TreeSet<>(kinds);
    }
}
