package dev.flinkrwkv.math;

import dev.flinkrwkv.model.TensorType;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vector kernel's products allocate nothing, also in a JVM whose first use of the decoders was on
 * their own (so the JIT may compile them alone before their callers): a decoder that C2 does not inline
 * into the product loop returns boxed vectors, which shows up as allocation per product. One class, so one
 * JVM (the module runs each test class in a fresh JVM), so that this cold-start order is what happens.
 */
class ColdStartAllocationTest {
    @Test
    void productsAllocateNothingEvenWhenTheDecodersWereCompiledAloneFirst() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Random rnd = new Random(1);
        MatMulKernel v = MatMulKernel.vector();
        for (TensorType type : new TensorType[] {TensorType.FP16, TensorType.Q8_0, TensorType.Q5_1, TensorType.Q4_0}) {
            // the decoders called on their own, many times, from cold code: the JIT compiles them alone first
            Matrix tiny = RandomWeights.matrix(type, 1, 32, rnd);
            float[] out = new float[32];
            for (int i = 0; i < 200_000; i++) {
                type.storage.vectorKernels().decode(tiny.data(), 0, 32, out, 0);
            }
            Matrix m = RandomWeights.matrix(type, 64, 256, rnd);
            float[] x = RandomWeights.floats(8 * 256, rnd);
            float[] y = new float[8 * 64];
            long perCall = Long.MAX_VALUE;
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (perCall >= 64 && System.nanoTime() < deadline) {
                for (int i = 0; i < 2000; i++) {
                    v.mul(m, x, 0, 256, y, 0, 64, 1, 0, 64);
                    v.mul(m, x, 0, 256, y, 0, 64, 8, 0, 64);
                }
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 100; i++) {
                    v.mul(m, x, 0, 256, y, 0, 64, 1, 0, 64);
                    v.mul(m, x, 0, 256, y, 0, 64, 8, 0, 64);
                }
                perCall = (mx.getCurrentThreadAllocatedBytes() - before) / 200;
            }
            System.out.println(type + ": " + perCall + " bytes per product");
            assertTrue(perCall < 64, type + ": " + perCall + " bytes per product");
        }
    }
}
