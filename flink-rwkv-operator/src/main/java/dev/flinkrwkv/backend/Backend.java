package dev.flinkrwkv.backend;

import dev.flinkrwkv.rwkv.RaggedBatch;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;

/**
 * Where the RWKV math runs: the CPU ({@link CpuBackend}) or an NVIDIA GPU (the CUDA backend in
 * {@code backend.cuda}, found as a {@link GpuBackendProvider} service), chosen by {@link Backends#open}.
 *
 * <p>A backend is a session of one thread (an operator subtask): it owns scratch buffers and is not
 * thread-safe; any number of backends share one {@link RwkvModel} (and, on a GPU, one upload of its
 * weights). The backends agree up to float rounding, not bit for bit: the GPU sums matrix products in
 * another order (per-token log-probabilities within 1e-3 of the CPU's, checked by the CUDA tests).
 *
 * <p>Three ways to hand states over:
 * <ul>
 *   <li>{@link #step(RaggedBatch)}: the keyed operator's way. The caller owns the states (host arrays in
 *       rwkv.cpp's layout); on a GPU each call copies a key's state to the device and back.
 *   <li>{@link #stepBatch}, {@link #stepSequence}: the same for one token per state, or a run of one state.
 *   <li>Resident slots ({@link #resizeSlots}, {@link #writeSlot}, {@link #stepSlots}, {@link #readSlot}):
 *       the backend keeps states between steps (on the device for CUDA) and the caller copies them in and
 *       out. Only the GPU benchmark uses them so far; the operator keeps its resident states on the heap.
 * </ul>
 */
public interface Backend extends AutoCloseable {
    /** A short description for logs, e.g. {@code cpu} or {@code cuda:0 (NVIDIA H100, sm_90)}. */
    String name();

    RwkvModel model();

    /**
     * Evaluates a ragged batch (see {@link RaggedBatch}): each key's state advances by its rows in order,
     * rows with a target get its log-probability, rows that want them their logits, and a key's state is
     * rounded at each record end by the batch's rounding.
     */
    void step(RaggedBatch batch);

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

    /**
     * Releases what this session holds: the CPU evaluator's worker threads; device buffers, and the shared
     * weights when it was the last user.
     */
    @Override
    void close();
}
