package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.backend.Backend;
import dev.flinkrwkv.backend.Sequences;
import dev.flinkrwkv.rwkv.RaggedBatch;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * The GPU backend: one session (one thread, e.g. one operator subtask) on the process's CUDA device.
 *
 * <p>Weights are uploaded once per process and model file ({@link GpuModel}, reference counted), so the
 * subtasks of a task manager share them. Each session has its own stream and {@link Workspace}. A step
 * runs the whole network over N rows (B states x T tokens) with per-layer kernels from
 * {@code native/rwkv.cu}: matrix products batched over all rows (one pass over the weights per step),
 * recurrences per state and head.
 *
 * <p>States either travel with each call ({@link #stepBatch}, {@link #stepSequence}: copied in, stepped,
 * copied back) or stay resident in a device pool of slots ({@link #stepSlots}), which is what big batches
 * need: a 0.1B RWKV-7 state is 2.4 MB, so 4096 of them cannot cross PCIe every token.
 *
 * <p>Every public method makes the shared context current first, since Flink may call from any thread.
 */
public final class CudaBackend implements Backend {
    private final RwkvModel model;
    private final CudaDevice device;
    private final GpuModel gpu;
    private final CUstream stream;
    private final Workspace ws;
    private final Pass pass;
    private CUdeviceptr pool; // resident slots x stateSize
    private int slots;
    private boolean closed;

    /** Opens a session for {@code model} on the process's device (uploading the weights if first). */
    public CudaBackend(RwkvModel model) {
        String why = GpuModel.unsupported(model);
        if (why != null) {
            throw new IllegalStateException(model.file().path().getFileName() + " cannot run on the GPU: " + why);
        }
        this.model = model;
        this.device = CudaDevice.get();
        device.makeCurrent();
        this.gpu = GpuModel.acquire(model);
        this.stream = new CUstream();
        cuStreamCreate(stream, 0);
        this.ws = new Workspace(gpu);
        this.pass = new Pass(gpu, device.kernels, stream, ws);
    }

    /** Why {@code model} cannot run on the GPU (shape limits of the kernels), or null when it can. */
    public static String unsupported(RwkvModel model) {
        return GpuModel.unsupported(model);
    }

    @Override
    public String name() {
        return device.info.description;
    }

    @Override
    public RwkvModel model() {
        return model;
    }

    /** The shared weights (for tests: sessions of one model file share one upload). */
    GpuModel gpuModel() {
        return gpu;
    }

    /** Weight bytes one step reads on the device (everything but the embedding table). */
    public long weightBytesPerStep() {
        return gpu.weightBytesPerStep();
    }

    /** Device bytes held: the shared weights and this session's scratch and slots. */
    public long deviceBytes() {
        return gpu.deviceBytes() + ws.deviceBytes() + (long) slots * gpu.stateSize * Float.BYTES;
    }

    /**
     * A ragged batch key by key in sequence mode ({@link RaggedBatch#stepBySequences}): the kernels take
     * B states x T tokens of one length, not ragged runs, so each run (a record, or a part of one holding at
     * most {@link #SEQUENCE_LOGIT_FLOATS} floats of logits) is one pass with its key's state copied in and
     * out. The matrix kernels sum in another order above 16 rows, so a record's bits depend on its runs,
     * which depend on the record alone, never on the batch: replays on a GPU are exact.
     */
    @Override
    public void step(RaggedBatch batch) {
        batch.stepBySequences(model.vocab(), Math.max(1, SEQUENCE_LOGIT_FLOATS / model.vocab()), this::stepSequence);
    }

    /** Logits one sequence pass of {@link #step(RaggedBatch)} copies back at most: 8 MiB. */
    static final int SEQUENCE_LOGIT_FLOATS = 2 << 20;

    @Override
    public void stepBatch(RwkvState[] states, int[] tokens, int batch, float[] logits) {
        checkBatch(tokens, batch, logits);
        if (batch > states.length) {
            throw new IllegalArgumentException("batch " + batch + " with " + states.length + " states");
        }
        for (int b = 0; b < batch; b++) {
            checkState(states[b]);
        }
        begin(batch);
        ws.ensureStates(batch);
        uploadStates(states, batch);
        pass.set(ws.states, Kernels.NULL, batch, 1);
        run(tokens, 0, logits != null, false);
        downloadStates(states, batch, logits, logits == null ? 0 : batch);
    }

    @Override
    public void stepSequence(RwkvState state, int[] tokens, int offset, int count, float[] logits) {
        Sequences.check(model, tokens, offset, count, logits);
        checkState(state);
        begin(count);
        ws.ensureStates(1);
        RwkvState[] one = {state};
        uploadStates(one, 1);
        pass.set(ws.states, Kernels.NULL, 1, count);
        boolean lastOnly = logits != null && logits.length < (long) count * model.vocab();
        run(tokens, offset, logits != null, lastOnly);
        downloadStates(one, 1, logits, logits == null ? 0 : lastOnly ? 1 : count);
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public void resizeSlots(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("slot count " + count);
        }
        device.makeCurrent();
        long size = (long) gpu.stateSize * Float.BYTES;
        CUdeviceptr next = null;
        if (count > 0) {
            next = new CUdeviceptr();
            cuMemAlloc(next, count * size);
            int keep = Math.min(count, slots);
            if (keep > 0) {
                cuMemcpyDtoDAsync(next, pool, keep * size, stream);
            }
            if (keep < count) {
                // new slots start as the initial state: upload it once, then copy on the device
                float[] init = model.initialState().data();
                ByteBuffer h = ws.host(size);
                h.asFloatBuffer().put(init);
                CUdeviceptr first = Kernels.offset(next, (long) keep * gpu.stateSize);
                cuMemcpyHtoDAsync(first, ws.hostAt(0), size, stream);
                for (int s = keep + 1; s < count; s++) {
                    cuMemcpyDtoDAsync(Kernels.offset(next, (long) s * gpu.stateSize), first, size, stream);
                }
            }
            cuStreamSynchronize(stream);
        }
        if (pool != null) {
            cuMemFree(pool);
        }
        pool = next;
        slots = count;
    }

    @Override
    public void writeSlot(int slot, RwkvState state) {
        checkSlot(slot);
        checkState(state);
        device.makeCurrent();
        ByteBuffer h = ws.host((long) gpu.stateSize * Float.BYTES);
        h.asFloatBuffer().put(state.data());
        cuMemcpyHtoDAsync(slotPtr(slot), ws.hostAt(0), (long) gpu.stateSize * Float.BYTES, stream);
        cuStreamSynchronize(stream);
    }

    @Override
    public void readSlot(int slot, RwkvState state) {
        checkSlot(slot);
        checkState(state);
        device.makeCurrent();
        ByteBuffer h = ws.host((long) gpu.stateSize * Float.BYTES);
        cuMemcpyDtoHAsync(ws.hostAt(0), slotPtr(slot), (long) gpu.stateSize * Float.BYTES, stream);
        cuStreamSynchronize(stream);
        h.asFloatBuffer().get(state.data());
    }

    @Override
    public void stepSlots(int[] slotIds, int[] tokens, int batch, float[] logits) {
        stepResident(slotIds, tokens, batch, logits != null, logits);
    }

    /**
     * A resident step whose logits stay on the device ({@code head}: computed, not copied back); for
     * benchmarks of the device side, where copying B x vocab logits to the host would dominate.
     */
    public void stepSlotsOnDevice(int[] slotIds, int[] tokens, int batch, boolean head) {
        stepResident(slotIds, tokens, batch, head, null);
    }

    private void stepResident(int[] slotIds, int[] tokens, int batch, boolean head, float[] logits) {
        checkBatch(tokens, batch, logits);
        if (batch > slotIds.length) {
            throw new IllegalArgumentException("batch " + batch + " with " + slotIds.length + " slots");
        }
        for (int b = 0; b < batch; b++) {
            checkSlot(slotIds[b]);
        }
        begin(batch);
        ByteBuffer h = ws.host((long) batch * Integer.BYTES);
        h.asIntBuffer().put(slotIds, 0, batch);
        cuMemcpyHtoDAsync(ws.slots, ws.hostAt(0), (long) batch * Integer.BYTES, stream);
        cuStreamSynchronize(stream); // the staging buffer is reused for the tokens next
        pass.set(pool, ws.slots, batch, 1);
        run(tokens, 0, head, false);
        if (logits != null) {
            long bytes = (long) batch * model.vocab() * Float.BYTES;
            ByteBuffer out = ws.host(bytes);
            cuMemcpyDtoHAsync(ws.hostAt(0), ws.logits, bytes, stream);
            cuStreamSynchronize(stream);
            out.asFloatBuffer().get(logits, 0, batch * model.vocab());
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        device.makeCurrent();
        cuStreamSynchronize(stream);
        if (pool != null) {
            cuMemFree(pool);
            pool = null;
        }
        ws.free();
        cuStreamDestroy(stream);
        gpu.release();
    }

    // ------------------------------------------------------------------------------------------------

    private void begin(int rows) {
        if (closed) {
            throw new IllegalStateException("backend closed");
        }
        device.makeCurrent();
        ws.ensureRows(rows);
    }

    /** Runs the network over the pass's rows; fills the device logits (all rows, or the last) if asked. */
    private void run(int[] tokens, int offset, boolean head, boolean lastOnly) {
        int n = pass.n;
        ByteBuffer h = ws.host((long) n * Integer.BYTES);
        h.asIntBuffer().put(tokens, offset, n);
        cuMemcpyHtoDAsync(ws.tokens, ws.hostAt(0), (long) n * Integer.BYTES, stream);
        Kernels k = device.kernels;
        k.embed(stream, ws.tokens, gpu.emb, ws.x, n, gpu.c);
        k.layerNorm(stream, ws.x, ws.x, gpu.ln0W, gpu.ln0B, n, gpu.c, GpuModel.LN_EPS);
        for (int layer = 0; layer < gpu.layers; layer++) {
            gpu.timeMix.run(pass, layer);
            gpu.channelMix[layer].run(pass, layer);
        }
        if (head) {
            if (lastOnly) {
                computeHead(n - 1, 1);
            } else {
                computeHead(0, n);
            }
        }
        // the token upload must finish before the staging buffer is reused
        cuStreamSynchronize(stream);
    }

    /** Logits of rows [first, first + count) into the device logits buffer, from row 0. */
    private void computeHead(int first, int count) {
        Kernels k = device.kernels;
        ws.ensureLogits(count);
        CUdeviceptr x = Kernels.offset(ws.x, (long) first * gpu.c);
        CUdeviceptr xn = Kernels.offset(ws.xn, (long) first * gpu.c);
        k.layerNorm(stream, x, xn, gpu.lnOutW, gpu.lnOutB, count, gpu.c, GpuModel.LN_EPS);
        k.matmul(stream, gpu.head, xn, 0, gpu.c, ws.logits, 0, gpu.vocab, count);
    }

    private void uploadStates(RwkvState[] states, int count) {
        long bytes = (long) count * gpu.stateSize * Float.BYTES;
        ByteBuffer h = ws.host(bytes);
        FloatBuffer f = h.asFloatBuffer();
        for (int b = 0; b < count; b++) {
            f.put(states[b].data());
        }
        cuMemcpyHtoDAsync(ws.states, ws.hostAt(0), bytes, stream);
        cuStreamSynchronize(stream);
    }

    /** Copies the gathered states and {@code logitRows} rows of logits back after the step. */
    private void downloadStates(RwkvState[] states, int count, float[] logits, int logitRows) {
        long stateBytes = (long) count * gpu.stateSize * Float.BYTES;
        long logitBytes = (long) logitRows * model.vocab() * Float.BYTES;
        ByteBuffer h = ws.host(stateBytes + logitBytes);
        cuMemcpyDtoHAsync(ws.hostAt(0), ws.states, stateBytes, stream);
        if (logitRows > 0) {
            cuMemcpyDtoHAsync(ws.hostAt(stateBytes), ws.logits, logitBytes, stream);
        }
        cuStreamSynchronize(stream);
        FloatBuffer f = h.asFloatBuffer();
        for (int b = 0; b < count; b++) {
            f.get(states[b].data());
        }
        if (logitRows > 0) {
            f.get(logits, 0, logitRows * model.vocab());
        }
    }

    private CUdeviceptr slotPtr(int slot) {
        return Kernels.offset(pool, (long) slot * gpu.stateSize);
    }

    private void checkSlot(int slot) {
        if (slot < 0 || slot >= slots) {
            throw new IllegalArgumentException("slot " + slot + " outside [0, " + slots + ")");
        }
    }

    private void checkState(RwkvState s) {
        if (s.size() != gpu.stateSize) {
            throw new IllegalArgumentException("state of " + s.size() + " floats, this model's has " + gpu.stateSize);
        }
    }

    private void checkBatch(int[] tokens, int batch, float[] logits) {
        if (batch < 1 || batch > tokens.length) {
            throw new IllegalArgumentException("batch " + batch + " with " + tokens.length + " tokens");
        }
        for (int b = 0; b < batch; b++) {
            if (tokens[b] < 0 || tokens[b] >= model.vocab()) {
                throw new IllegalArgumentException("token " + tokens[b] + " outside the vocabulary [0, "
                        + model.vocab() + ")");
            }
        }
        if (logits != null && logits.length < (long) batch * model.vocab()) {
            throw new IllegalArgumentException("logits buffer of " + logits.length + " floats, need "
                    + (long) batch * model.vocab());
        }
    }

    @Override
    public String toString() {
        return "CudaBackend[" + name() + ", " + model.file().path().getFileName() + "]";
    }
}
