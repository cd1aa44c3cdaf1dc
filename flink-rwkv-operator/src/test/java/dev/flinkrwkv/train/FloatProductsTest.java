package dev.flinkrwkv.train;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernels of the fast training path: the Vector API kernels (float32 matrix product, double dot product)
 * give exactly the plain-Java kernels' bits, and a chunk's loss and gradient agree with the double-precision path (the one the gradient
 * check verifies) to float rounding.
 */
class FloatProductsTest {
    @Test
    void theVectorKernelGivesThePlainJavaKernelsBits() {
        FloatGemm kernel = FloatGemm.get();
        assertEquals("FloatGemmVector", kernel.getClass().getSimpleName(), "the tests run with the vector module");
        SplittableRandom rnd = new SplittableRandom(3);
        // Row counts around the 4-row tile, column counts around the 8- and 16-lane tiles.
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {4, 16, 16}, {5, 9, 24}, {7, 33, 31}, {64, 64, 256}, {13, 8, 40}};
        for (int[] sh : shapes) {
            int m = sh[0], k = sh[1], n = sh[2], off = 5;
            float[] a = random(rnd, m * k), b = random(rnd, off + k * n);
            float[] expected = new float[m * n], actual = new float[m * n];
            new FloatGemm.Scalar().multiply(a, k, 1, m, k, b, off, n, expected);
            kernel.multiply(a, k, 1, m, k, b, off, n, actual);
            assertArrayEquals(expected, actual, m + "x" + k + "x" + n);
            // The same a stored transposed (k x m) and read with swapped strides gives the same product.
            float[] aT = new float[k * m];
            for (int i = 0; i < m; i++) {
                for (int p = 0; p < k; p++) {
                    aT[p * m + i] = a[i * k + p];
                }
            }
            kernel.multiply(aT, 1, m, m, k, b, off, n, actual);
            assertArrayEquals(expected, actual, m + "x" + k + "x" + n + ", a transposed");
        }
    }

    @Test
    void theVectorFloatDotGivesThePlainJavaDotsBits() {
        assertEquals("FloatDotVector", FloatDot.KERNEL.getClass().getSimpleName(), "the tests run with the vector module");
        SplittableRandom rnd = new SplittableRandom(5);
        for (int n : new int[] {1, 7, 8, 9, 16, 31, 32, 33, 64}) {
            float[] a = random(rnd, n + 3), b = random(rnd, n + 2);
            assertEquals(new FloatDot.Scalar().dot(a, 3, b, 2, n), FloatDot.KERNEL.dot(a, 3, b, 2, n), 0, "n = " + n);
        }
    }

    @Test
    void theVectorWkvKernelGivesThePlainJavaKernelsBits() {
        assertEquals("WkvKernelVector", WkvKernel.forHeadSize(32).getClass().getSimpleName(),
                "the tests run with the vector module");
        int c = 64, tokens = 5;
        for (int s : new int[] {8, 16, 32, 64}) {
            WkvKernel.Layer plain = layer(tokens, c, s), vector = layer(tokens, c, s);
            WkvKernel.Gradients plainGrads = new WkvKernel.Gradients(tokens, c, s),
                    vectorGrads = new WkvKernel.Gradients(tokens, c, s);
            double[] plainY = new double[tokens * c], vectorY = new double[tokens * c];
            int ss = c * s;
            for (int t = 0; t < tokens; t++) {
                for (int h = 0; h < c / s; h++) {
                    WkvKernel.SCALAR.forward(plain, s, t * c + h * s, h * s * s, t * ss, (t + 1) * ss, plainY);
                    WkvKernel.forHeadSize(s).forward(vector, s, t * c + h * s, h * s * s, t * ss, (t + 1) * ss,
                            vectorY);
                }
            }
            assertArrayEquals(plain.states, vector.states, "states, head size " + s);
            assertArrayEquals(plain.sa, vector.sa, "sa, head size " + s);
            assertArrayEquals(plainY, vectorY, "y, head size " + s);
            float[] dy = random(new SplittableRandom(s), tokens * c);
            System.arraycopy(dy, 0, plainGrads.dy, 0, dy.length);
            System.arraycopy(dy, 0, vectorGrads.dy, 0, dy.length);
            for (int t = tokens - 1; t >= 0; t--) {
                for (int h = 0; h < c / s; h++) {
                    WkvKernel.SCALAR.backward(plain, plainGrads, s, t * c + h * s, h * s * s, t * ss, (t + 1) * ss);
                    WkvKernel.forHeadSize(s).backward(vector, vectorGrads, s, t * c + h * s, h * s * s, t * ss,
                            (t + 1) * ss);
                }
            }
            String at = ", head size " + s;
            assertArrayEquals(plainGrads.dS, vectorGrads.dS, "dS" + at);
            assertArrayEquals(plainGrads.dr, vectorGrads.dr, "dr" + at);
            assertArrayEquals(plainGrads.dw, vectorGrads.dw, "dw" + at);
            assertArrayEquals(plainGrads.dk, vectorGrads.dk, "dk" + at);
            assertArrayEquals(plainGrads.dv, vectorGrads.dv, "dv" + at);
            assertArrayEquals(plainGrads.dkk, vectorGrads.dkk, "dkk" + at);
            assertArrayEquals(plainGrads.da, vectorGrads.da, "da" + at);
        }
        assertEquals(WkvKernel.SCALAR, WkvKernel.forHeadSize(12), "a head size the vectors do not divide");
    }

    /** A layer's WKV inputs and first state, the same for the same sizes. */
    private static WkvKernel.Layer layer(int tokens, int c, int s) {
        SplittableRandom rnd = new SplittableRandom(c * 31L + s);
        WkvKernel.Layer x = new WkvKernel.Layer(tokens, c, s);
        for (float[] f : new float[][] {x.kk, x.a, x.w, x.k, x.v, x.r}) {
            System.arraycopy(random(rnd, f.length), 0, f, 0, f.length);
        }
        for (int i = 0; i < x.beta.length; i++) {
            x.beta[i] = x.kk[i] * x.a[i];
        }
        System.arraycopy(random(rnd, c * s), 0, x.states, 0, c * s);
        return x;
    }

    @Test
    void theVectorDotGivesThePlainJavaDotsBits() {
        assertEquals("DotVector", Dot.KERNEL.getClass().getSimpleName(), "the tests run with the vector module");
        SplittableRandom rnd = new SplittableRandom(4);
        for (int n : new int[] {1, 3, 4, 7, 16, 32, 33, 64}) {
            double[] a = new double[n + 3], b = new double[n + 2];
            for (int i = 0; i < a.length; i++) {
                a[i] = 2 * rnd.nextDouble() - 1;
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = 2 * rnd.nextDouble() - 1;
            }
            assertEquals(new Dot.Scalar().dot(a, 3, b, 2, n), Dot.KERNEL.dot(a, 3, b, 2, n), 0, "n = " + n);
        }
    }

    @Test
    void float32LossAndGradientAgreeWithDoublePrecision() {
        Rwkv7Shape shape = new Rwkv7Shape(256, 64, 2, 32, 256, 16, 16, 16, 16);
        Rwkv7Params model = new Rwkv7Params(shape);
        model.initialize(5);
        SplittableRandom rnd = new SplittableRandom(13);
        double[] p = model.values();
        for (int i = 0; i < p.length; i++) {
            p[i] += (2 * rnd.nextDouble() - 1) * 0.1;
        }
        int t = 32;
        int[] in = new int[t], target = new int[t];
        for (int i = 0; i < t; i++) {
            in[i] = rnd.nextInt(256);
            target[i] = rnd.nextInt(256);
        }
        double[] state = new double[shape.stateSize()];
        for (int i = 0; i < state.length; i++) {
            state[i] = (2 * rnd.nextDouble() - 1) * 0.5;
        }
        Rwkv7Chunk exact = new Rwkv7Chunk(model, t);
        Rwkv7Chunk fast = new Rwkv7Chunk(model, t, MatrixProducts.float32(new MatrixProducts.FloatWeights(model), t),
                WkvRecurrence.float32(shape, t));
        double[] gExact = new double[model.size()], gFast = new double[model.size()];
        double lossExact = exact.forward(in, target, t, state.clone());
        exact.backward(gExact);
        double lossFast = fast.forward(in, target, t, state.clone());
        fast.backward(gFast);

        assertEquals(lossExact, lossFast, 1e-5 * Math.abs(lossExact), "summed loss");
        double diff = 0, norm = 0;
        for (int i = 0; i < gExact.length; i++) {
            diff += (gFast[i] - gExact[i]) * (gFast[i] - gExact[i]);
            norm += gExact[i] * gExact[i];
        }
        double relative = Math.sqrt(diff / norm);
        System.out.printf("float32 path: loss %.9f vs %.9f, gradient relative L2 error %.2e%n", lossFast, lossExact,
                relative);
        assertTrue(norm > 0);
        assertTrue(relative < 1e-4, "gradient relative L2 error " + relative);
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        return x;
    }
}
