package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.model.RwkvVersion;
import dev.flinkrwkv.rwkv.RwkvModel;
import jcuda.driver.CUdeviceptr;

import java.util.HashMap;
import java.util.Map;

/**
 * A model's weights on the device, uploaded once per process (per task manager) and shared by every
 * session that uses the same model file: {@link #acquire} counts references, the last {@link #release}
 * frees the device memory. Holds the top level (embedding, ln0, ln_out, head), each layer's channel mix
 * and the version's time mix.
 */
final class GpuModel {
    static final float LN_EPS = 1e-5f;

    private static final Map<String, GpuModel> CACHE = new HashMap<>();

    final String key;
    final RwkvVersion version;
    final int c, vocab, layers, heads, headSize, vectorsPerLayer, stateSize;
    /** Width of the workspace's hidden buffer: the largest FFN, maa or LoRA hidden size. */
    final int hiddenWidth;
    final DeviceMatrix emb, head;
    final CUdeviceptr ln0W, ln0B, lnOutW, lnOutB;
    final GpuChannelMix[] channelMix;
    final GpuTimeMix timeMix;
    private final DeviceMemory mem;
    private int references;

    private GpuModel(String key, RwkvModel model, DeviceMemory mem) throws ModelFormatException {
        this.key = key;
        this.mem = mem;
        ModelFile f = model.file();
        version = model.version();
        c = model.embed();
        vocab = model.vocab();
        layers = model.layers();
        heads = model.heads();
        headSize = heads == 0 ? 0 : c / heads;
        vectorsPerLayer = model.spec().stateVectorsPerLayer(headSize);
        stateSize = model.stateSize();
        emb = mem.matrix(f.tensor("emb.weight"));
        head = mem.matrix(f.tensor("head.weight"));
        ln0W = mem.vector(f.tensor("blocks.0.ln0.weight"));
        ln0B = mem.vector(f.tensor("blocks.0.ln0.bias"));
        lnOutW = mem.vector(f.tensor("ln_out.weight"));
        lnOutB = mem.vector(f.tensor("ln_out.bias"));
        channelMix = new GpuChannelMix[layers];
        int hidden = 0;
        for (int i = 0; i < layers; i++) {
            channelMix[i] = new GpuChannelMix(f, mem, i, version);
            hidden = Math.max(hidden, channelMix[i].ffn);
        }
        switch (version) {
            case V4: timeMix = new TimeMix4(f, mem, this); break;
            case V5_1:
            case V5_2: timeMix = new TimeMix5(f, mem, this); break;
            case V6: timeMix = new TimeMix6(f, mem, this); break;
            case V7: timeMix = new TimeMix7(f, mem, this); break;
            default: throw new IllegalStateException("no GPU time mix for " + version);
        }
        hiddenWidth = Math.max(hidden, timeMix.hiddenWidth());
    }

    /** Why this model cannot run on the GPU, or null when it can. */
    static String unsupported(RwkvModel model) {
        if (model.heads() > 0 && !Kernels.hasWkvFor(model.embed() / model.heads())) {
            return "head size " + model.embed() / model.heads() + " has no WKV kernel (built for "
                    + java.util.Arrays.toString(Kernels.HEAD_SIZES) + ")";
        }
        return null;
    }

    /** The shared upload of {@code model}'s weights (made now if this is the first user). */
    static GpuModel acquire(RwkvModel model) {
        String key = model.file().path().toAbsolutePath().normalize() + "#" + model.file().fingerprint();
        synchronized (CACHE) {
            GpuModel g = CACHE.get(key);
            if (g == null) {
                DeviceMemory mem = new DeviceMemory();
                try {
                    g = new GpuModel(key, model, mem);
                } catch (ModelFormatException | RuntimeException e) {
                    mem.freeAll();
                    throw new IllegalStateException("uploading " + model.file().path() + " to the GPU failed: "
                            + e.getMessage(), e);
                }
                CACHE.put(key, g);
            }
            g.references++;
            return g;
        }
    }

    /** Drops one reference; the last frees the weights. */
    void release() {
        synchronized (CACHE) {
            if (--references == 0) {
                CACHE.remove(key);
                mem.freeAll();
            }
        }
    }

    /** Device bytes of the weights. */
    long deviceBytes() {
        return mem.bytes();
    }

    /** Bytes one step reads: every weight once, except the embedding, of which one row per token is read. */
    long weightBytesPerStep() {
        return mem.bytes() - emb.bytes();
    }
}
