package dev.flinkrwkv.tensor;

/**
 * The width of the float vectors every Vector API kernel runs (the matrix kernels of each storage type, the
 * batched tiles, RWKV-7's state updates), chosen once per process: {@value #PROPERTY}={@code 256} or
 * {@code 512}, default 256. Every layout that depends on it (the chunks of {@link PackedRows}) and every
 * sum's order (one accumulator of {@link #LANES} lanes) follow it, so each width gives the same bits on
 * every path: from the mapped file, from the heap copy, in any batch.
 *
 * <p>Why 256 by default even where the CPU has 512-bit vectors: measured on an AVX-512 CPU with Java 17,
 * the 512-bit kernels decode quantized rows faster, but run FP16 slower (the widening of halves by shift,
 * mask and scale compiles poorly at that width) and FP32 no faster (a 64-byte load from a Java array, whose
 * data starts 16 bytes into the object, crosses a cache line every time). Whole-model single streams were
 * no faster at 512 bits for any type; the width stays selectable for CPUs and JDKs where that differs. On
 * a CPU without 512-bit vectors the 512-bit species is emulated, correct but many times slower (a warning
 * says so): the default never picks it.
 *
 * <p>Why a fixed rule and not a measurement at start-up: the width sets the order of every sum, so two
 * widths give different bits. A job restarted from a checkpoint must compute exactly what it would have
 * computed without the failure; a width measured anew at each start could differ between the run and its
 * restart (a busy machine, another task manager), and the replayed outputs would not be the same bits. Every
 * task manager of a job should run the same width (the default, or the same property everywhere).
 *
 * <p>This class names no vector type, so layouts can be sized without the {@code jdk.incubator.vector}
 * module.
 */
public final class VectorWidth {
    private VectorWidth() {}

    /** The system property that chooses the width: {@code 256} or {@code 512}. */
    public static final String PROPERTY = "flinkrwkv.vector.bits";
    /** The width: 256 unless the property says 512. */
    public static final int BITS = bits(System.getProperty(PROPERTY));
    /** Float lanes of one vector. */
    public static final int LANES = BITS / Float.SIZE;

    /** The width a property value asks for: 512 for "512", 256 for anything else (warned unless unset or "256"). */
    static int bits(String value) {
        if (value == null || value.isBlank() || value.trim().equals("256")) {
            return 256;
        }
        if (value.trim().equals("512")) {
            return 512;
        }
        System.getLogger(VectorWidth.class.getName()).log(System.Logger.Level.WARNING,
                "-D" + PROPERTY + "=" + value + " is neither 256 nor 512; using 256");
        return 256;
    }
}
