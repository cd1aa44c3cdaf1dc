package dev.flinkrwkv.train;

import dev.flinkrwkv.model.ModelWriter;
import dev.flinkrwkv.model.Quantizer;
import dev.flinkrwkv.model.TensorType;

import dev.flinkrwkv.model.RwkvVersion;
import dev.flinkrwkv.rwkv.RwkvSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The parameters of a trainable RWKV-7 model as one flat {@code double[]}, laid out tensor by tensor in
 * rwkv.cpp's names and shapes (matrices row-major with ne0 = input size, exactly as the file stores them).
 * One flat vector makes the optimizer, gradient summing, clipping and checkpoints single loops, and the
 * gradient of a model is simply another array of the same layout.
 *
 * <p>Offsets of every tensor are resolved once into plain int fields ({@link Layer}) so that the forward
 * and backward passes index the arrays directly.
 */
public final class Rwkv7Params {
    /** The version whose tensors these are (its quantization rules decide the storage types). */
    private static final RwkvSpec V7 = RwkvSpec.of(RwkvVersion.V7);

    /** Offsets of one layer's tensors; {@code v0, v1, v2} are -1 in layer 0, which has no value residual. */
    static final class Layer {
        int ln1W, ln1B, ln2W, ln2B;
        int mix; // x_rwkvag: 6 slabs of C, order r, w, k, v, a, g
        int w0, w1, w2, a0, a1, a2, v0 = -1, v1 = -1, v2 = -1, g1, g2, kK, kA, rK;
        int receptance, key, value, output, lnXW, lnXB;
        int ffnXk, ffnKey, ffnValue;
    }

    final Rwkv7Shape shape;
    final double[] values;
    final int emb, ln0W, ln0B, lnOutW, lnOutB, head;
    final Layer[] layer;
    private final List<ParamTensor> tensors;

    /** A model of this shape with every parameter zero (see {@link #initialize}). */
    public Rwkv7Params(Rwkv7Shape shape) {
        this.shape = shape;
        int c = shape.embed();
        Layout l = new Layout();
        emb = l.add("emb.weight", c, shape.vocab());
        layer = new Layer[shape.layers()];
        int ln0w = 0, ln0b = 0;
        for (int i = 0; i < shape.layers(); i++) {
            Layer y = new Layer();
            layer[i] = y;
            String p = "blocks." + i + ".";
            y.ln1W = l.add(p + "ln1.weight", c);
            y.ln1B = l.add(p + "ln1.bias", c);
            y.ln2W = l.add(p + "ln2.weight", c);
            y.ln2B = l.add(p + "ln2.bias", c);
            if (i == 0) {
                ln0w = l.add(p + "ln0.weight", c);
                ln0b = l.add(p + "ln0.bias", c);
            }
            String a = p + "att.";
            y.mix = l.add(a + "x_rwkvag", c, 1, 6);
            y.w0 = l.add(a + "w0", c, 1, 1);
            y.w1 = l.add(a + "w1", c, shape.decayRank());
            y.w2 = l.add(a + "w2", shape.decayRank(), c);
            y.a0 = l.add(a + "a0", c, 1, 1);
            y.a1 = l.add(a + "a1", c, shape.aRank());
            y.a2 = l.add(a + "a2", shape.aRank(), c);
            if (i > 0) {
                y.v0 = l.add(a + "v0", c, 1, 1);
                y.v1 = l.add(a + "v1", c, shape.valueRank());
                y.v2 = l.add(a + "v2", shape.valueRank(), c);
            }
            y.g1 = l.add(a + "g1", c, shape.gateRank());
            y.g2 = l.add(a + "g2", shape.gateRank(), c);
            y.kK = l.add(a + "k_k", c, 1, 1);
            y.kA = l.add(a + "k_a", c, 1, 1);
            y.rK = l.add(a + "r_k", shape.headSize(), shape.heads());
            y.receptance = l.add(a + "receptance.weight", c, c);
            y.key = l.add(a + "key.weight", c, c);
            y.value = l.add(a + "value.weight", c, c);
            y.output = l.add(a + "output.weight", c, c);
            y.lnXW = l.add(a + "ln_x.weight", c);
            y.lnXB = l.add(a + "ln_x.bias", c);
            y.ffnXk = l.add(p + "ffn.x_k", c, 1, 1);
            y.ffnKey = l.add(p + "ffn.key.weight", c, shape.ffn());
            y.ffnValue = l.add(p + "ffn.value.weight", shape.ffn(), c);
        }
        ln0W = ln0w;
        ln0B = ln0b;
        lnOutW = l.add("ln_out.weight", c);
        lnOutB = l.add("ln_out.bias", c);
        head = l.add("head.weight", c, shape.vocab());
        tensors = Collections.unmodifiableList(l.tensors);
        values = new double[l.size];
    }

    private static final class Layout {
        final List<ParamTensor> tensors = new ArrayList<>();
        int size;

        int add(String name, int... ne) {
            ParamTensor t = new ParamTensor(name, size, ne);
            tensors.add(t);
            size += t.size();
            return t.offset();
        }
    }

    public Rwkv7Shape shape() {
        return shape;
    }

    /** The live parameter values (the optimizer updates them in place). */
    public double[] values() {
        return values;
    }

    public int size() {
        return values.length;
    }

    /**
     * One flag per parameter: true in the weight matrices ({@code emb}, {@code head} and the layers' two-dimensional
     * {@code .weight} tensors), false in the vectors, mixes, biases and low-rank projections: the parameters that
     * weight decay shrinks, as RWKV-LM chooses them.
     */
    public boolean[] weightMatrices() {
        boolean[] flags = new boolean[values.length];
        for (ParamTensor t : tensors) {
            if (t.ne().length == 2 && t.ne()[0] > 1 && t.ne()[1] > 1 && t.name().endsWith(".weight")) {
                java.util.Arrays.fill(flags, t.offset(), t.offset() + t.size(), true);
            }
        }
        return flags;
    }

    /** Every tensor, in the order the model file lists them. */
    public List<ParamTensor> tensors() {
        return tensors;
    }

    /**
     * Writes the parameters as an rwkv.cpp model file of storage type {@code type}, through the shared
     * {@link ModelWriter} (header version 101, the target type's code, tensors in file order). Each tensor
     * gets the type {@link Quantizer#storageFor} gives it, and its rows are rounded to float and encoded by
     * {@link Quantize}, exactly the steps {@link Quantizer#convert} takes on the FP32 file: a quantized model
     * written here equals the FP32 one quantized afterwards, byte for byte, without the FP32 file.
     */
    public void write(Path file, TensorType type) throws IOException {
        checkStorable(type);
        try (ModelWriter w = ModelWriter.create(file, 101, shape.vocab(), shape.embed(), shape.layers(), type.code)) {
            float[] row = new float[0];
            for (ParamTensor t : tensors) {
                int cols = t.ne()[0];
                TensorType to = Quantizer.storageFor(t.name(), t.ne().length, type, V7::keepsUnquantized);
                if (row.length < cols) {
                    row = new float[cols];
                }
                float[] buf = row;
                w.write(t.name(), to, t.ne(), (r, out) -> {
                    int from = t.offset() + r * cols;
                    for (int i = 0; i < cols; i++) {
                        buf[i] = (float) values[from + i];
                    }
                    to.storage.encode(buf, 0, cols, out);
                });
            }
            w.finish();
        }
    }

    /**
     * Fails, naming the tensor, when a tensor that {@code type} would quantize has rows that do not fill
     * whole blocks (e.g. an embedding of 48 for 32-value blocks): a check a run can make before training.
     */
    public void checkStorable(TensorType type) {
        for (ParamTensor t : tensors) {
            TensorType to = Quantizer.storageFor(t.name(), t.ne().length, type, V7::keepsUnquantized);
            if (t.ne()[0] % to.blockElements != 0) {
                throw new IllegalArgumentException("the model cannot be stored as " + type + ": tensor '" + t.name()
                        + "' has rows of " + t.ne()[0] + " values, not a multiple of " + to.blockElements);
            }
        }
    }

    /**
     * Sets every parameter as the RWKV-7 reference initializes a new model, drawing from a generator seeded
     * with {@code seed}: token-shift mixes that fall from 1 toward 0 across channels (less mixing in deeper
     * layers), decay biases spread from fast to slow over channels with a per-head zigzag, LoRA up-projections
     * zero and down-projections orthogonal at scale 0.1, small uniform r/k/v matrices, zero output and FFN
     * value matrices (so every block starts as the identity), LayerNorms at weight 1, bias 0.
     */
    public void initialize(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        java.util.Arrays.fill(values, 0);
        int c = shape.embed(), n = shape.layers(), s = shape.headSize();
        double invSqrtC = 1 / Math.sqrt(c);
        uniform(rnd, emb, c * shape.vocab(), 1e-4);
        fill(ln0W, c, 1);
        fill(lnOutW, c, 1);
        orthogonal(rnd, head, shape.vocab(), c,
                shape.vocab() > c ? 0.5 * Math.sqrt((double) shape.vocab() / c) : 0.5);
        for (int i = 0; i < n; i++) {
            Layer y = layer[i];
            double ratio0To1 = n > 1 ? (double) i / (n - 1) : 0;
            double ratio1ToAlmost0 = 1 - (double) i / n;
            fill(y.ln1W, c, 1);
            fill(y.ln2W, c, 1);
            double[] mixPower = {0.2, 0.9, 0.7, 0.7, 0.9, 0.2}; // r, w, k, v, a, g
            for (int slab = 0; slab < 6; slab++) {
                for (int j = 0; j < c; j++) {
                    values[y.mix + slab * c + j] = 1 - Math.pow((double) j / c, mixPower[slab] * ratio1ToAlmost0);
                }
            }
            for (int j = 0; j < c; j++) {
                double linear = c > 1 ? (double) j / (c - 1) - 0.5 : 0;
                double zigzag = s > 1 ? ((j % s) - (s - 1) / 2.0) / ((s - 1) / 2.0) : 0;
                zigzag *= Math.abs(zigzag);
                double decay = -6 + 6 * Math.pow(c > 1 ? (double) j / (c - 1) : 0, 1 + Math.pow(ratio0To1, 0.3));
                values[y.w0 + j] = decay + 0.5 + zigzag * 2.5;
                values[y.a0 + j] = -0.19 + zigzag * 0.3 + linear * 0.4;
                if (y.v0 >= 0) {
                    values[y.v0 + j] = 0.73 - linear * 0.4;
                }
                values[y.kK + j] = 0.71 - linear * 0.1;
                values[y.kA + j] = 1.02;
                values[y.rK + j] = -0.04;
                values[y.lnXW + j] = Math.pow((1.0 + i) / n, 0.7);
                values[y.ffnXk + j] = 1 - Math.pow((double) j / c, Math.pow(ratio1ToAlmost0, 4));
            }
            orthogonal(rnd, y.w2, c, shape.decayRank(), 0.1);
            orthogonal(rnd, y.a2, c, shape.aRank(), 0.1);
            if (y.v2 >= 0) {
                orthogonal(rnd, y.v2, c, shape.valueRank(), 0.1);
            }
            orthogonal(rnd, y.g2, c, shape.gateRank(), 0.1);
            uniform(rnd, y.receptance, c * c, 0.5 * invSqrtC);
            uniform(rnd, y.key, c * c, 0.05 * invSqrtC);
            uniform(rnd, y.value, c * c, 0.5 * invSqrtC);
            uniform(rnd, y.ffnKey, shape.ffn() * c, 0.5 * invSqrtC);
        }
    }

    private void fill(int off, int n, double v) {
        java.util.Arrays.fill(values, off, off + n, v);
    }

    private void uniform(SplittableRandom rnd, int off, int n, double bound) {
        for (int i = 0; i < n; i++) {
            values[off + i] = (2 * rnd.nextDouble() - 1) * bound;
        }
    }

    /**
     * A {@code rows x cols} matrix at {@code off} with orthonormal rows (if rows &lt;= cols) or columns,
     * times {@code gain}: Gram-Schmidt on Gaussian vectors, the construction of torch's orthogonal_ init.
     */
    private void orthogonal(SplittableRandom rnd, int off, int rows, int cols, double gain) {
        boolean byRows = rows <= cols;
        int count = byRows ? rows : cols, len = byRows ? cols : rows;
        double[][] q = new double[count][len];
        for (int a = 0; a < count; a++) {
            for (int k = 0; k < len; k++) {
                q[a][k] = rnd.nextGaussian();
            }
            for (int b = 0; b < a; b++) {
                double dot = 0;
                for (int k = 0; k < len; k++) {
                    dot += q[a][k] * q[b][k];
                }
                for (int k = 0; k < len; k++) {
                    q[a][k] -= dot * q[b][k];
                }
            }
            double norm = 0;
            for (int k = 0; k < len; k++) {
                norm += q[a][k] * q[a][k];
            }
            norm = Math.sqrt(norm);
            for (int k = 0; k < len; k++) {
                q[a][k] /= norm;
            }
        }
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                values[off + r * cols + k] = gain * (byRows ? q[r][k] : q[k][r]);
            }
        }
    }
}
