package dev.flinkrwkv.math;

import dev.flinkrwkv.tensor.Half;
import dev.flinkrwkv.tensor.VectorWidth;
import dev.flinkrwkv.model.TensorType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Vector API kernel against the plain-Java one on every storage type: the same weights decoded
 * (bit for bit), the same products (to float rounding), and a batch row equal to the same row alone.
 */
class MatMulKernelTest {
    static final MatMulKernel SCALAR = MatMulKernel.scalar();
    static final MatMulKernel VECTOR = MatMulKernel.vector();

    @Test
    void vectorKernelIsAvailableAndChosenInTests() {
        assertNotNull(VECTOR, "the tests run with --add-modules jdk.incubator.vector on an AVX2 CPU");
        assertEquals(VECTOR, MatMulKernel.get());
        assertEquals("vector-" + VectorWidth.BITS, VECTOR.name(), "the kernel runs the width chosen for the process");
    }

    @ParameterizedTest
    @EnumSource(TensorType.class)
    void vectorDecodingEqualsScalarBitForBit(TensorType type) {
        Random rnd = new Random(type.ordinal());
        int cols = type.isQuantized() ? 256 : 259;
        Matrix m = RandomWeights.matrix(type, 3, cols, rnd);
        for (int r = 0; r < 3; r++) {
            float[] expected = new float[cols];
            float[] actual = new float[cols + 5];
            type.storage.decode(m.data(), r * m.rowBytes(), cols, expected, 0);
            type.storage.vectorKernels().decode(m.data(), Math.toIntExact(r * m.rowBytes()), cols, actual, 5);
            for (int i = 0; i < cols; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[5 + i]),
                        type + " row " + r + " value " + i);
            }
        }
    }

    @Test
    void everyFiniteHalfIsDecodedExactly() {
        ByteBuffer b = ByteBuffer.allocate(2 * 65536).order(ByteOrder.LITTLE_ENDIAN);
        for (int h = 0; h < 65536; h++) {
            b.putShort(2 * h, (short) h);
        }
        float[] out = new float[65536];
        TensorType.FP16.storage.vectorKernels().decode(b, 0, 65536, out, 0);
        int finite = 0;
        for (int h = 0; h < 65536; h++) {
            if (((h >> 10) & 0x1F) != 0x1F) {
                assertEquals(Float.floatToRawIntBits(Half.toFloat((short) h)), Float.floatToRawIntBits(out[h]),
                        "half " + Integer.toHexString(h));
                finite++;
            }
        }
        assertEquals(63_488, finite);
    }

    /** Every bfloat16, infinities and NaNs included, from the file and from the heap copy. */
    @Test
    void everyBfloat16IsDecodedExactly() {
        ByteBuffer b = ByteBuffer.allocateDirect(2 * 65536).order(ByteOrder.LITTLE_ENDIAN);
        for (int h = 0; h < 65536; h++) {
            b.putShort(2 * h, (short) h);
        }
        Matrix m = new Matrix("every bfloat16", TensorType.BF16, b, 1, 65536).packedWherePossible();
        assertTrue(m.finiteHalves(), "a BF16 matrix has no halves the vector kernel cannot decode");
        assertNotNull(m.packed());
        float[] mapped = new float[65536], packed = new float[65536], plain = new float[65536];
        TensorType.BF16.storage.vectorKernels().decode(b, 0, 65536, mapped, 0);
        TensorType.BF16.storage.vectorKernels().packedDecode(m.packed(), 0, packed, 0);
        m.row(0, plain, 0);
        for (int h = 0; h < 65536; h++) {
            float want = Float.intBitsToFloat(h << 16);
            String what = "bfloat16 " + Integer.toHexString(h);
            for (float got : new float[] {mapped[h], packed[h], plain[h]}) {
                if (Float.isNaN(want)) {
                    assertTrue(Float.isNaN(got), what);
                } else {
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), what);
                }
            }
        }
    }

    /** An FP32 matrix of the same values as a 16-bit one: each row decoded exactly. */
    static Matrix widened(Matrix m) {
        ByteBuffer b = ByteBuffer.allocateDirect(4 * m.rows() * m.cols()).order(ByteOrder.LITTLE_ENDIAN);
        float[] row = new float[m.cols()];
        for (int n = 0; n < m.rows(); n++) {
            m.row(n, row, 0);
            for (float v : row) {
                b.putFloat(v);
            }
        }
        return new Matrix(m.name() + " as FP32", TensorType.FP32, b.flip(), m.rows(), m.cols());
    }

    /**
     * A 16-bit matrix gives the bits of the FP32 matrix of its values, in every path: each kernel, batch 1 from
     * the heap copy and from the file, the batched tiles, whole groups of rows and ranges cut inside them.
     * For BF16 also with infinities among the weights (FP16 matrices holding one take another path, below).
     */
    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"FP16", "BF16"})
    void sixteenBitProductsAreTheBitsOfTheirFp32Values(TensorType type) {
        Random rnd = new Random(700 + type.ordinal());
        for (int cols : new int[] {5, 37, 64, 771}) {
            for (int rows : new int[] {1, 4, 6, 13, 37}) {
                Matrix m = RandomWeights.matrix(type, rows, cols, rnd);
                if (type == TensorType.BF16 && rows > 4) {
                    m.data().putShort(2 * (cols + 3), (short) 0xFF80); // row 1: -infinity
                }
                Matrix fp32 = widened(m);
                int[][] ranges = {{0, rows}, {Math.min(1, rows - 1), Math.max(1, rows - 2)}, {rows - 1, rows}};
                for (int batch : new int[] {1, 2, 3, 4, 5, 9}) {
                    int xStride = cols + 3, yStride = rows + 2;
                    float[] x = RandomWeights.floats(2 + batch * xStride, rnd);
                    for (int[] range : ranges) {
                        String what = type + " " + rows + "x" + cols + " batch " + batch + " rows " + range[0] + ".."
                                + range[1];
                        for (MatMulKernel kernel : new MatMulKernel[] {SCALAR, VECTOR}) {
                            float[] want = new float[1 + batch * yStride];
                            kernel.mul(fp32, x, 2, xStride, want, 1, yStride, batch, range[0], range[1]);
                            for (Matrix w : new Matrix[] {m.packedWherePossible(), m.mappedOnly()}) {
                                float[] got = new float[1 + batch * yStride];
                                kernel.mul(w, x, 2, xStride, got, 1, yStride, batch, range[0], range[1]);
                                assertArrayEquals(want, got, what + ", " + kernel.name() + (w.packed() != null ? ", heap" : ", mapped"));
                            }
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TensorType.class)
    void vectorProductsEqualScalarProducts(TensorType type) {
        Random rnd = new Random(100 + type.ordinal());
        int[] colsChoices = type.isQuantized() ? new int[] {32, 96, 768} : new int[] {5, 37, 64, 768};
        for (int cols : colsChoices) {
            for (int rows : new int[] {1, 6, 13, 37}) {
                Matrix m = RandomWeights.matrix(type, rows, cols, rnd);
                for (int batch : new int[] {1, 2, 3, 5, 9}) {
                    int xStride = cols + 3, yStride = rows + 2;
                    float[] x = RandomWeights.floats(2 + batch * xStride, rnd);
                    float[] ys = new float[1 + batch * yStride];
                    float[] yv = new float[1 + batch * yStride];
                    SCALAR.mul(m, x, 2, xStride, ys, 1, yStride, batch, 0, rows);
                    VECTOR.mul(m, x, 2, xStride, yv, 1, yStride, batch, 0, rows);
                    for (int b = 0; b < batch; b++) {
                        for (int n = 0; n < rows; n++) {
                            int at = 1 + b * yStride + n;
                            float[] w = new float[cols];
                            m.row(n, w, 0);
                            double scale = 0;
                            for (int i = 0; i < cols; i++) {
                                scale += Math.abs(w[i] * x[2 + b * xStride + i]);
                            }
                            assertEquals(ys[at], yv[at], 1e-6 * scale + 1e-30,
                                    type + " " + rows + "x" + cols + " batch " + batch + " entry " + b + " row " + n);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TensorType.class)
    void aBatchRowEqualsTheSameRowAlone(TensorType type) {
        Random rnd = new Random(200 + type.ordinal());
        int rows = 37, cols = type.isQuantized() ? 160 : 171, batch = 9;
        Matrix m = RandomWeights.matrix(type, rows, cols, rnd);
        float[] x = RandomWeights.floats(batch * cols, rnd);
        float[] y = new float[batch * rows];
        VECTOR.mul(m, x, 0, cols, y, 0, rows, batch, 0, rows);
        for (int b = 0; b < batch; b++) {
            float[] alone = new float[rows];
            VECTOR.mul(m, x, b * cols, cols, alone, 0, rows, 1, 0, rows);
            float[] inBatch = java.util.Arrays.copyOfRange(y, b * rows, (b + 1) * rows);
            assertArrayEquals(alone, inBatch, type + " entry " + b);
        }
    }

    @ParameterizedTest
    @EnumSource(TensorType.class)
    void weightsPackedOnTheHeapGiveTheBitsOfTheMappedWeights(TensorType type) {
        Random rnd = new Random(400 + type.ordinal());
        int[] colsChoices = type.isQuantized() ? new int[] {32, 96, 768} : new int[] {5, 37, 64, 771};
        for (int cols : colsChoices) {
            for (int rows : new int[] {1, 4, 6, 13, 37}) {
                Matrix m = RandomWeights.matrix(type, rows, cols, rnd).packedWherePossible();
                Matrix mapped = m.mappedOnly();
                assertNotNull(m.packed(), type + " is packed");
                assertNull(mapped.packed());
                // whole groups, a range cut inside groups at both ends, a single row
                int[][] ranges = {{0, rows}, {Math.min(1, rows - 1), Math.max(1, rows - 2)}, {rows - 1, rows}};
                for (int batch : new int[] {1, 3, 9}) {
                    int xStride = cols + 3, yStride = rows + 2;
                    float[] x = RandomWeights.floats(2 + batch * xStride, rnd);
                    for (int[] range : ranges) {
                        float[] fromHeap = new float[1 + batch * yStride];
                        float[] fromFile = new float[1 + batch * yStride];
                        VECTOR.mul(m, x, 2, xStride, fromHeap, 1, yStride, batch, range[0], range[1]);
                        VECTOR.mul(mapped, x, 2, xStride, fromFile, 1, yStride, batch, range[0], range[1]);
                        assertArrayEquals(fromFile, fromHeap, type + " " + rows + "x" + cols + " batch " + batch
                                + " rows " + range[0] + ".." + range[1]);
                    }
                }
            }
        }
    }

    @Test
    void theWeightsPropertyChoosesWhichMatricesAreCopiedToTheHeap() {
        Random rnd = new Random(500);
        String before = System.getProperty(Matrix.WEIGHTS_PROPERTY);
        try {
            System.setProperty(Matrix.WEIGHTS_PROPERTY, "mapped");
            assertNull(RandomWeights.matrix(TensorType.Q8_0, 8, 64, rnd).packed());
            assertNull(RandomWeights.matrix(TensorType.FP16, 8, 64, rnd).packed());
            System.setProperty(Matrix.WEIGHTS_PROPERTY, "heap");
            assertNotNull(RandomWeights.matrix(TensorType.Q8_0, 8, 64, rnd).packed());
            assertNotNull(RandomWeights.matrix(TensorType.FP16, 8, 64, rnd).packed());
            System.clearProperty(Matrix.WEIGHTS_PROPERTY);
            assertNotNull(RandomWeights.matrix(TensorType.Q8_0, 8, 64, rnd).packed(), "Q8_0 by default");
            assertNotNull(RandomWeights.matrix(TensorType.FP16, 8, 64, rnd).packed(), "FP16 by default");
            assertNotNull(RandomWeights.matrix(TensorType.Q5_1, 8, 64, rnd).packed(), "Q5_1 by default");
            assertNotNull(RandomWeights.matrix(TensorType.FP32, 8, 64, rnd).packed(), "FP32 by default");
            System.setProperty(Matrix.WEIGHTS_PROPERTY, "MAPPED");
            assertNull(RandomWeights.matrix(TensorType.Q8_0, 8, 64, rnd).packed(), "the value's case does not matter");
            System.setProperty(Matrix.WEIGHTS_PROPERTY, "maped");
            assertNotNull(RandomWeights.matrix(TensorType.Q8_0, 8, 64, rnd).packed(), "an unknown value keeps the default");
        } finally {
            if (before == null) {
                System.clearProperty(Matrix.WEIGHTS_PROPERTY);
            } else {
                System.setProperty(Matrix.WEIGHTS_PROPERTY, before);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TensorType.class)
    void aMatrixWhoseCopyTheHeapCannotSpareStaysMapped(TensorType type) {
        Matrix m = RandomWeights.matrix(type, 64, 256, new Random(600));
        long copy = type.storage.packedBytes(64, 256), lots = 1L << 40;
        assertTrue(copy >= m.bytes() * 9 / 10, "the estimate is at least about the stored size: " + copy + " vs " + m.bytes());
        assertTrue(HeapCopies.heapCanHold(copy, 0, 2 * copy, 2 * copy), "half of the free heap, half of the heap");
        assertFalse(HeapCopies.heapCanHold(copy, 0, 2 * copy - 2, lots), "more than half of the free heap");
        assertFalse(HeapCopies.heapCanHold(copy, 1, lots, 2 * copy), "with the copies held, more than half of the heap");
        assertTrue(HeapCopies.heapCanHold(copy, 1, lots, 2 * copy + 2));

        assertNull(HeapCopies.of(m, 2 * copy - 2, lots), "more than half of the free heap");
        assertNull(HeapCopies.of(m, lots, 2 * copy - 2), "more than half of the heap");
        dev.flinkrwkv.tensor.PackedRows made = HeapCopies.of(m, lots, lots);
        assertNotNull(made);
        assertTrue(HeapCopies.heldBytes() >= copy, "a live copy is counted: " + HeapCopies.heldBytes());
    }

    @Test
    void halfMatricesKnowWhetherTheyHoldInfinitiesOrNaNs() {
        ByteBuffer b = ByteBuffer.allocate(2 * 64).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 64; i++) {
            b.putShort(2 * i, Half.fromFloat(i - 30.5f));
        }
        assertTrue(new Matrix("finite", TensorType.FP16, b, 2, 32).finiteHalves());
        b.putShort(2 * 40, (short) 0xFC00); // -infinity
        Matrix withInfinity = new Matrix("inf", TensorType.FP16, b, 2, 32);
        assertFalse(withInfinity.finiteHalves());
        float[] x = new float[32];
        x[8] = 1f;
        float[] y = new float[2];
        VECTOR.mul(withInfinity, x, 0, 32, y, 0, 2, 1, 0, 2);
        assertEquals(Float.NEGATIVE_INFINITY, y[1], "the exact decoder keeps the infinity");
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"})
    void quantizedMatricesKnowWhetherTheirScalesAreFinite(TensorType type) {
        Random rnd = new Random(300 + type.ordinal());
        Matrix m = RandomWeights.matrix(type, 2, 64, rnd);
        assertTrue(m.finiteHalves(), type + ": random scales are finite");
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(m.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        b.put(m.data().duplicate());
        b.putShort(type.blockBytes * 3, (short) 0x7C00); // row 1, second block: scale +infinity
        Matrix inf = new Matrix("inf", type, b, 2, 64);
        assertFalse(inf.finiteHalves(), type.toString());
        float[] x = RandomWeights.floats(3 * 64, rnd);
        for (int batch : new int[] {1, 3}) {
            float[] ys = new float[3 * 2], yv = new float[3 * 2];
            SCALAR.mul(inf, x, 0, 64, ys, 0, 2, batch, 0, 2);
            VECTOR.mul(inf, x, 0, 64, yv, 0, 2, batch, 0, 2);
            assertArrayEquals(ys, yv, type + ": taken by the exact plain-Java kernel, batch " + batch);
            assertTrue(!Float.isFinite(yv[1]), type + ": the infinite scale reaches the product");
        }
        float[] actual = new float[64];
        inf.row(1, actual, 0);
        assertTrue(Float.isInfinite(actual[40]) || Float.isNaN(actual[40]), type + ": the infinite scale is kept");
    }
}
