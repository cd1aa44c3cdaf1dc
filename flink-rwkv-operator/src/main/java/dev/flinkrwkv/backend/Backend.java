package dev.flinkrwkv.backend;

import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;

/**
 * Where the RWKV math runs: the CPU ({@link CpuBackend}) or an NVIDIA GPU
 * ({@link dev.flinkrwkv.backend.cuda.CudaBackend}), chosen by {@link Backends#open}.
 *
 * <p>A backend is a session of one thread (an operator subtask): it owns scratch buffers and is not
 * thread-safe; any number of backends share one {@link RwkvModel} (and, on a GPU, one upload of its
 * weights). Both backends give the same results up to float rounding (the GPU sums matrix products in
 * another order), so a job may switch between them across restarts.
 *
 * <p>Two ways to hand states over:
 * <ul>
 *   <li>{@link #stepBatch}: the caller owns the states (host arrays in rwkv.cpp's layout); each step
 *       gathers them to the device and scatters them back.
 *   <li>Resident slots ({@link #resizeSlots}, {@link #writeSlot}, {@link #stepSlots}, {@link #readSlot}):
 *       the backend keeps states between steps (on the device for CUDA), and the caller copies them in
 *       when a key becomes active and out at a checkpoint barrier or on eviction. This is what makes a big
 *       batch cheap on a GPU, where a state can be megabytes.
 * </ul>
 */
public interface Backend extends AutoCloseable {
    /** A short description for logs, e.g. {@code cpu} or {@code cuda:0 (NVIDIA H100, sm_90)}. */
    String name();

    RwkvModel model();

    /**
     * One token for each of {@code batch} states: {@code states[b]} advances by {@code tokens[b]}, and its
     * logits go to {@code logits[b*vocab ..]} (null: no logits, which skips the head).
     */
    void stepBatch(RwkvState[] states, int[] tokens, int batch, float[] logits);

    /**
     * Sequence mode: {@code count} tokens of one state, in order ({@code tokens[offset ..]}). Logits: null
     * for none; an array of at least {@code count * vocab} floats receives the logits after every token;
     * a shorter one (at least {@code vocab}) receives those after the last token only.
     */
    void stepSequence(RwkvState state, int[] tokens, int offset, int count, float[] logits);

    /** Number of resident state slots (0 until {@link #resizeSlots}). */
    int slots();

    /** Grows or shrinks the resident slots to {@code count}; slots below both sizes keep their states. */
    void resizeSlots(int count);

    /** Copies {@code state} into resident slot {@code slot}. */
    void writeSlot(int slot, RwkvState state);

    /** Copies resident slot {@code slot} into {@code state}. */
    void readSlot(int slot, RwkvState state);

    /**
     * As {@link #stepBatch}, for resident states: slot {@code slots[b]} advances by {@code tokens[b]}. The
     * slots of one step must be distinct.
     */
    void stepSlots(int[] slots, int[] tokens, int batch, float[] logits);

    /** Releases what this session holds (device buffers; the shared weights when it was the last user). */
    @Override
    void close();
}
