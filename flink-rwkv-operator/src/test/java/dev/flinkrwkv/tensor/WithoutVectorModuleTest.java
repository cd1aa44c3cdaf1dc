package dev.flinkrwkv.tensor;

import dev.flinkrwkv.model.TensorType;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The storage types hold their vector kernels in classes of their own, loaded only by the vector matrix
 * kernel: a JVM without {@code jdk.incubator.vector} (the plain-Java path) still encodes, decodes and packs
 * every type. Checked in a JVM started without the module (the tests' own JVM has it).
 */
class WithoutVectorModuleTest {
    /** Encodes, decodes and packs every type; exits 0 when all of it works and the module is absent. */
    public static void main(String[] args) {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            System.exit(2);
        }
        float[] x = new float[64];
        for (int i = 0; i < x.length; i++) {
            x[i] = i * 0.1f - 3;
        }
        for (TensorType t : TensorType.values()) {
            Storage s = t.storage;
            ByteBuffer b = ByteBuffer.allocate((int) s.bytesFor(64)).order(ByteOrder.LITTLE_ENDIAN);
            s.encode(x, 0, 64, b);
            float[] y = new float[64];
            s.decode(b, 0, 64, y, 0);
            if (s.packs() && s.pack(b, s.bytesFor(32), 2, 32).rows != 2 || !s.halvesFinite(b, b.capacity())) {
                System.exit(3);
            }
        }
        System.exit(0);
    }

    @Test
    void storageTypesWorkWithoutTheVectorModule() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                WithoutVectorModuleTest.class.getName()).inheritIO().start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the JVM without the module ended");
        assertEquals(0, p.exitValue(), "2: module present, 3: a type failed, else a class failed to load");
    }
}
