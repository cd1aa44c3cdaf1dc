package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.math.Matrix;
import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.model.RwkvVersion;
import dev.flinkrwkv.model.Tensor;
import dev.flinkrwkv.model.TensorType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/**
 * An RWKV model resolved from a {@link ModelFile}: the weights of every layer looked up and shape-checked
 * once at load. Immutable and thread-safe; evaluators ({@link #newEvaluator()}), one per thread, share it.
 *
 * <p>One subclass per version family ({@link Rwkv4}, {@link Rwkv5} for 5.1 and 5.2, {@link Rwkv6},
 * {@link Rwkv7}) holds that family's layer weights and its time mix; what all share (embedding, ln0,
 * token shift, channel mix, ln_out, head) lives here and in {@link RwkvEvaluator}.
 */
public abstract class RwkvModel {
    protected final ModelFile file;
    protected final RwkvVersion version;
    /** The version's tensors and state layout. */
    protected final RwkvSpec spec;
    protected final int vocab;
    protected final int embed;
    protected final int layers;
    protected final Matrix emb;
    protected final float[] ln0W;
    protected final float[] ln0B;
    protected final float[] lnOutW;
    protected final float[] lnOutB;
    protected final Matrix head;
    protected final float[][] ln1W;
    protected final float[][] ln1B;
    protected final ChannelMix[] channelMix;
    /** The time mix's four C x C projections, named alike in every version. */
    protected final Matrix[] receptance;
    protected final Matrix[] key;
    protected final Matrix[] value;
    protected final Matrix[] output;

    protected RwkvModel(Weights w, RwkvVersion version) throws ModelFormatException {
        this.file = w.file();
        this.version = version;
        this.spec = RwkvSpec.of(version);
        this.vocab = file.vocab();
        this.embed = file.embed();
        this.layers = file.layers();
        int c = embed;
        this.emb = w.matrix("emb.weight", c, vocab);
        this.ln0W = w.vector("blocks.0.ln0.weight", c);
        this.ln0B = w.vector("blocks.0.ln0.bias", c);
        this.lnOutW = w.vector("ln_out.weight", c);
        this.lnOutB = w.vector("ln_out.bias", c);
        this.head = w.matrix("head.weight", c, vocab);
        this.ln1W = new float[layers][];
        this.ln1B = new float[layers][];
        this.channelMix = new ChannelMix[layers];
        this.receptance = new Matrix[layers];
        this.key = new Matrix[layers];
        this.value = new Matrix[layers];
        this.output = new Matrix[layers];
        for (int i = 0; i < layers; i++) {
            String p = prefix(i);
            ln1W[i] = w.vector(p + "ln1.weight", c);
            ln1B[i] = w.vector(p + "ln1.bias", c);
            receptance[i] = w.matrix(p + "att.receptance.weight", c, c);
            key[i] = w.matrix(p + "att.key.weight", c, c);
            value[i] = w.matrix(p + "att.value.weight", c, c);
            output[i] = w.matrix(p + "att.output.weight", c, c);
        }
    }

    static String prefix(int layer) {
        return "blocks." + layer + ".";
    }

    /** Opens a model file and resolves its weights. */
    public static RwkvModel load(Path path) throws IOException {
        return load(ModelFile.open(path));
    }

    /** Resolves the weights of an opened model file, detecting its version from the tensors present. */
    public static RwkvModel load(ModelFile file) throws ModelFormatException {
        Weights w = new Weights(file);
        Tensor ln1 = file.tensor("blocks.0.ln1.weight");
        if (ln1.elements() != file.embed()) {
            throw w.shape(ln1, file.embed() + " values (the header's embedding size)");
        }
        for (int i = 0; i < file.layers(); i++) {
            file.tensor(prefix(i) + "ln1.weight");
        }
        RwkvVersion v = file.detectVersion();
        switch (v) {
            case V4: return new Rwkv4(w);
            case V5_1:
            case V5_2: return new Rwkv5(w, v);
            case V6: return new Rwkv6(w);
            case V7: return new Rwkv7(w);
            default: throw new IllegalStateException(v.toString());
        }
    }

    /** A new single-threaded evaluator with its own scratch buffers (not thread-safe; one per thread). */
    public final RwkvEvaluator newEvaluator() {
        return newEvaluator(1);
    }

    /**
     * A new evaluator whose matrix products are split over {@code threads} threads (the caller's and
     * {@code threads - 1} workers it starts; {@link RwkvEvaluator#close()} stops them), evaluating at most
     * {@link RwkvEvaluator#DEFAULT_MAX_BATCH_TOKENS} rows per pass.
     */
    public final RwkvEvaluator newEvaluator(int threads) {
        return newEvaluator(threads, RwkvEvaluator.DEFAULT_MAX_BATCH_TOKENS);
    }

    /**
     * As {@link #newEvaluator(int)}, with at most {@code maxBatchTokens} rows (tokens of all keys together)
     * per pass over the weights: the scratch memory is about {@code maxBatchTokens} x 30 x the embedding
     * size floats; longer batches take several passes, with the same results.
     */
    public abstract RwkvEvaluator newEvaluator(int threads, int maxBatchTokens);

    /** Head size of the multi-head versions (0 for v4). */
    abstract int headSize();

    /** Number of C-vectors per layer in the state ({@link RwkvSpec#stateVectorsPerLayer}). */
    protected final int stateVectorsPerLayer() {
        return spec.stateVectorsPerLayer(headSize());
    }

    /** Floats in one state. */
    public final int stateSize() {
        return spec.stateSize(embed, layers, headSize());
    }

    /** The version's tensors and state layout. */
    public RwkvSpec spec() {
        return spec;
    }

    /** rwkv.cpp's initial state ({@link RwkvSpec#initialState}). */
    public final RwkvState initialState() {
        float[] s = new float[stateSize()];
        spec.initialState(s, embed, layers, headSize());
        return new RwkvState(s);
    }

    public ModelFile file() {
        return file;
    }

    public RwkvVersion version() {
        return version;
    }

    public int vocab() {
        return vocab;
    }

    public int embed() {
        return embed;
    }

    public int layers() {
        return layers;
    }

    /** Attention heads (0 for v4, which has none). */
    public abstract int heads();

    /** Hidden size of the channel mix. */
    public int ffnSize() {
        return channelMix[0].key.rows();
    }

    /** Number of parameters (values in all tensors). */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : file.tensors().values()) {
            n += t.elements();
        }
        return n;
    }

    /** Tensor count per storage type. */
    public Map<TensorType, Integer> storageTypes() {
        Map<TensorType, Integer> m = new EnumMap<>(TensorType.class);
        for (Tensor t : file.tensors().values()) {
            m.merge(t.type(), 1, Integer::sum);
        }
        return m;
    }

    /**
     * Bytes of weights one token's step reads: every tensor once, except the embedding, of which one row is
     * read. This over memory bandwidth is the single-stream speed limit.
     */
    public long weightBytesPerToken() {
        long n = 0;
        for (Tensor t : file.tensors().values()) {
            n += t.byteSize();
        }
        Tensor e = file.tensors().get("emb.weight");
        return n - e.byteSize() + e.type().bytesFor(e.cols());
    }
}
