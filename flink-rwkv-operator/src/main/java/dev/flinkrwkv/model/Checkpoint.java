package dev.flinkrwkv.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An official RWKV checkpoint (BlinkDL's PyTorch {@code .pth}, or the same tensors in a safetensors file)
 * loaded as the model its rwkv.cpp conversion holds: the same names, shapes and parametrization, so the
 * evaluators never know which file they run. What rwkv.cpp's converter ({@code convert_pytorch_to_ggml.py})
 * does once, offline, is done here at load, and only here:
 *
 * <ul>
 * <li>All versions: the tensor order is the checkpoint's; a shape (s0, .., sn) in PyTorch order becomes
 *     ne = (sn, .., s0) (ggml order). Every tensor whose name contains {@code .time_} is first squeezed
 *     (its dimensions of size 1 dropped). Vocabulary and embedding come from {@code emb.weight} (V, C),
 *     the layer count from the run of {@code blocks.N.ln1.weight}; the version is detected from the names
 *     as for rwkv.cpp files ({@link RwkvVersion#detect}).</li>
 * <li>v4: {@code att.time_decay} becomes {@code -exp(time_decay)}.</li>
 * <li>v5.1: {@code att.time_decay} (H) becomes {@code exp(-exp(time_decay))} with shape (H, 1, 1);
 *     {@code att.time_first} (H) becomes {@code exp(time_first)}, shape (H, 1, 1).</li>
 * <li>v5.2: {@code att.time_decay} (H, S) becomes {@code exp(-exp(time_decay))}, shape (H, S, 1);
 *     {@code att.time_faaaa} (H, S) gets shape (H, S, 1), values unchanged.</li>
 * <li>v6: {@code att.time_faaaa} (H, S) gets shape (H, S, 1); {@code att.time_decay} (1, 1, C) is
 *     reshaped to (H, S, 1) (H from {@code blocks.0.att.time_faaaa}), values raw (the evaluator takes
 *     exp(-exp) after adding the LoRA); the LoRA matrices {@code att.time_maa_w1} (C, 5D),
 *     {@code att.time_decay_w1} (C, D) and {@code att.time_decay_w2} (D, C) are transposed, and
 *     {@code att.time_maa_w2} (5, D, C) becomes (5, C, D) (each slab transposed).</li>
 * <li>v7: the LoRA matrices {@code att.w1 w2 a1 a2 v1 v2 g1 g2} are transposed; the six token-shift
 *     vectors {@code att.x_r x_w x_k x_v x_a x_g} (1, 1, C) become one tensor {@code att.x_rwkvag}
 *     (6, 1, C), slabs in that order (rwkv.cpp concatenates them in the checkpoint's key order, which is
 *     this one), placed where {@code att.x_r} was.</li>
 * <li>Storage types, per tensor: float32 stays FP32, float16 stays FP16 and bfloat16 stays BF16 (a
 *     flink-rwkv type: rwkv.cpp has none, its converter widens bfloat16 to float32 first). Tensors whose values change (the exp forms above) are computed in float32
 *     and stored FP32, as the converter computes them. A 16-bit tensor that rwkv.cpp's converter keeps in
 *     FP32 in a half-precision file ({@link Quantizer#storesAsHalf}: 1-D vectors, {@code .time_*}, the v7
 *     mix and bias vectors) is widened to FP32.</li>
 * </ul>
 *
 * <p>Memory: tensors kept as stored are views of the memory-mapped checkpoint (no copy); only the
 * transformed ones above (vectors, and the small LoRA matrices, which must be transposed) are copied to
 * the heap, in their storage type.
 */
public final class Checkpoint {
    private Checkpoint() {}

    /** The checkpoint file formats. */
    enum Format {
        PYTORCH("PyTorch checkpoint"),
        SAFETENSORS("safetensors");

        final String label;

        Format(String label) {
            this.label = label;
        }

        /**
         * The checkpoint format of a file from its first bytes (a zip archive; a safetensors header), then
         * its extension ({@code .pth}, {@code .pt}; {@code .safetensors}, {@code .st}); null for an rwkv.cpp
         * file or anything else (which the rwkv.cpp reader then judges).
         */
        static Format detect(Path path, ByteBuffer first) {
            first = first.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            if (first.limit() >= 4 && first.getInt(0) == ModelFile.MAGIC) {
                return null;
            }
            if (first.limit() >= 4 && first.getInt(0) == 0x04034b50) {
                return PYTORCH;
            }
            if (SafetensorsReader.looksLike(first)) {
                return SAFETENSORS;
            }
            String name = String.valueOf(path.getFileName()).toLowerCase(Locale.ROOT);
            if (name.endsWith(".pth") || name.endsWith(".pt")) {
                return PYTORCH;
            }
            if (name.endsWith(".safetensors") || name.endsWith(".st")) {
                return SAFETENSORS;
            }
            return null;
        }
    }

    /** How a tensor's values are produced from the checkpoint's. */
    private enum Op {
        /** As stored, possibly reshaped (a view when the storage type is kept). */
        COPY,
        /** The last two dimensions swapped (a 2-D transpose, or each slab of a 3-D tensor). */
        TRANSPOSE,
        NEG_EXP,
        EXP,
        EXP_NEG_EXP
    }

    private static final Pattern X_VECTOR = Pattern.compile("blocks\\.(\\d+)\\.att\\.x_([rwkvag])");
    /** v7 token-shift vectors, in the order of the slabs of {@code x_rwkvag}. */
    private static final String RWKVAG = "rwkvag";
    private static final List<String> V7_LORA = List.of(".w1", ".w2", ".a1", ".a2", ".v1", ".v2", ".g1", ".g2");

    static ModelFile read(Path path, FileChannel ch, Format format) throws IOException {
        try {
            List<CheckpointTensor> src = format == Format.PYTORCH ? PthReader.read(path, ch)
                    : SafetensorsReader.read(path, ch);
            return convert(path, format.label, ch.size(), src);
        } catch (RuntimeException e) {
            // A checkpoint is untrusted input: whatever the checks above missed is still a bad file, said in a line.
            throw new ModelFormatException(path, "cannot be read as a " + format.label + " (" + e + ")", e);
        }
    }

    private static ModelFile convert(Path path, String format, long size, List<CheckpointTensor> src)
            throws ModelFormatException {
        Map<String, CheckpointTensor> byName = new LinkedHashMap<>();
        for (CheckpointTensor t : src) {
            if (byName.put(t.name(), t) != null) {
                throw new ModelFormatException(path, "duplicated tensor name '" + t.name() + "'");
            }
        }
        CheckpointTensor emb = need(path, byName, "emb.weight");
        if (emb.dims() != 2 || emb.shape()[0] < 1 || emb.shape()[1] < 1) {
            throw new ModelFormatException(path, "tensor 'emb.weight' has shape " + emb.shapeString()
                    + ", expected [vocabulary, embedding]");
        }
        int layers = 0;
        while (byName.containsKey("blocks." + layers + ".ln1.weight")) {
            layers++;
        }
        if (layers == 0) {
            need(path, byName, "blocks.0.ln1.weight");
        }
        RwkvVersion version = RwkvVersion.detect(byName::containsKey);
        long heads = 0;
        if (version == RwkvVersion.V6) {
            CheckpointTensor u = need(path, byName, "blocks.0.att.time_faaaa");
            heads = u.shape().length == 0 ? 1 : u.shape()[0];
        }
        List<Tensor> out = new ArrayList<>();
        for (CheckpointTensor t : src) {
            Matcher x = X_VECTOR.matcher(t.name());
            if (version == RwkvVersion.V7 && x.matches()) {
                if (x.group(2).equals("r")) {
                    out.add(rwkvag(path, byName, "blocks." + x.group(1) + ".att.", emb.shape()[1]));
                } else if (!byName.containsKey("blocks." + x.group(1) + ".att.x_r")) {
                    need(path, byName, "blocks." + x.group(1) + ".att.x_r");
                }
                continue;
            }
            out.add(convert(path, t, version, heads));
        }
        TensorType head = out.stream().filter(t -> t.name().equals("head.weight")).map(Tensor::type).findFirst()
                .orElse(TensorType.FP32);
        return ModelFile.assembled(path, format, size, (int) emb.shape()[0], (int) emb.shape()[1], layers, head.code, out);
    }

    private static CheckpointTensor need(Path path, Map<String, CheckpointTensor> byName, String name)
            throws ModelFormatException {
        CheckpointTensor t = byName.get(name);
        if (t == null) {
            throw new ModelFormatException(path, "missing tensor '" + name + "'");
        }
        return t;
    }

    /** One tensor in rwkv.cpp's layout (see the class comment). */
    private static Tensor convert(Path path, CheckpointTensor t, RwkvVersion version, long heads)
            throws ModelFormatException {
        String name = t.name();
        long[] shape = t.shape();
        long n = t.elements();
        Op op = Op.COPY;
        if (name.contains(".time_")) {
            shape = Arrays.stream(shape).filter(d -> d != 1).toArray();
        }
        switch (version) {
            case V4:
                if (name.contains(".time_decay")) {
                    op = Op.NEG_EXP;
                }
                break;
            case V5_1:
            case V5_2:
                if (name.contains(".time_decay")) {
                    op = Op.EXP_NEG_EXP;
                    shape = version == RwkvVersion.V5_2 ? append1(shape) : new long[] {n, 1, 1};
                }
                if (name.contains(".time_first")) {
                    op = Op.EXP;
                    shape = new long[] {n, 1, 1};
                }
                if (name.contains(".time_faaaa")) {
                    shape = append1(shape);
                }
                break;
            case V6:
                if (name.contains(".time_faaaa")) {
                    shape = append1(shape);
                }
                if (name.contains(".time_maa_w1") || name.contains(".time_decay_w")) {
                    shape = transposed(path, t, shape, 2);
                    op = Op.TRANSPOSE;
                }
                if (name.contains(".time_maa_w2")) {
                    shape = transposed(path, t, shape, 3);
                    op = Op.TRANSPOSE;
                }
                if (name.contains(".time_decay") && !name.contains("_w")) {
                    if (n % heads != 0) {
                        throw new ModelFormatException(path, "tensor '" + name + "' has " + n + " values, not a multiple of "
                                + heads + " heads");
                    }
                    shape = new long[] {heads, n / heads, 1};
                }
                break;
            case V7:
                for (String s : V7_LORA) {
                    if (name.contains(s)) {
                        shape = transposed(path, t, shape, 2);
                        op = Op.TRANSPOSE;
                        break;
                    }
                }
                break;
            default:
                throw new IllegalStateException(version.toString());
        }
        int[] ne = ggmlOrder(path, name, shape);
        TensorType type = storageOf(t, op, ne.length);
        if (op == Op.COPY && keptAsStored(t.dtype(), type)) {
            return new Tensor(name, type, ne, t.data());
        }
        ByteBuffer data = allocate(path, name, n, type);
        // Whole arrays and bulk copies, no call per value: a model's LoRA matrices are millions of values,
        // converted when the JVM has just started.
        int count = (int) n; // allocate bounds it
        boolean wide = type == TensorType.FP32;
        int[] bits = new int[count]; // float bits when wide, else the 16-bit values as stored
        if (t.dtype() == CheckpointTensor.Dtype.F32) {
            t.data().asIntBuffer().get(0, bits);
        } else {
            short[] h = new short[count];
            t.data().asShortBuffer().get(0, h);
            for (int i = 0; i < count; i++) {
                bits[i] = wide ? Float.floatToRawIntBits(CheckpointTensor.widen(t.dtype(), h[i])) : h[i];
            }
        }
        if (op == Op.TRANSPOSE) {
            bits = transpose(bits, (int) shape[shape.length - 2], (int) shape[shape.length - 1]);
        } else if (op != Op.COPY) {
            for (int i = 0; i < count; i++) {
                bits[i] = Float.floatToRawIntBits(apply(op, Float.intBitsToFloat(bits[i])));
            }
        }
        if (wide) {
            data.asIntBuffer().put(0, bits);
        } else {
            short[] h = new short[count];
            for (int i = 0; i < count; i++) {
                h[i] = (short) bits[i];
            }
            data.asShortBuffer().put(0, h);
        }
        return new Tensor(name, type, ne, data);
    }

    /** Output (B, rows, cols) from values in (B, cols, rows) order. */
    private static int[] transpose(int[] v, int rows, int cols) {
        int[] out = new int[v.length];
        int slab = rows * cols;
        for (int b = 0; b < v.length; b += slab) {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    out[b + r * cols + c] = v[b + c * rows + r];
                }
            }
        }
        return out;
    }

    private static float apply(Op op, float v) {
        switch (op) {
            case NEG_EXP: return (float) -Math.exp(v);
            case EXP: return (float) Math.exp(v);
            case EXP_NEG_EXP: return (float) Math.exp(-(float) Math.exp(v));
            default: return v;
        }
    }

    /** The type a tensor is held in (class comment, last item). */
    private static TensorType storageOf(CheckpointTensor t, Op op, int dims) {
        if (op != Op.COPY && op != Op.TRANSPOSE || t.dtype() == CheckpointTensor.Dtype.F32
                || !Quantizer.storesAsHalf(t.name(), dims)) {
            return TensorType.FP32;
        }
        return t.dtype() == CheckpointTensor.Dtype.F16 ? TensorType.FP16 : TensorType.BF16;
    }

    /** Whether the checkpoint's bytes are already the bytes of {@code type}. */
    private static boolean keptAsStored(CheckpointTensor.Dtype d, TensorType type) {
        switch (d) {
            case F32: return type == TensorType.FP32;
            case F16: return type == TensorType.FP16;
            default: return type == TensorType.BF16;
        }
    }

    /** v7's six token-shift vectors as one (6, 1, C) FP32 tensor, slabs r, w, k, v, a, g. */
    private static Tensor rwkvag(Path path, Map<String, CheckpointTensor> byName, String prefix, long embed)
            throws ModelFormatException {
        int c = Math.toIntExact(embed);
        ByteBuffer data = allocate(path, prefix + "x_rwkvag", 6L * c, TensorType.FP32);
        for (int s = 0; s < 6; s++) {
            CheckpointTensor x = need(path, byName, prefix + "x_" + RWKVAG.charAt(s));
            if (x.elements() != c) {
                throw new ModelFormatException(path, "tensor '" + x.name() + "' has shape " + x.shapeString()
                        + ", expected [1, 1, " + c + "]");
            }
            for (int i = 0; i < c; i++) {
                data.putFloat(4 * (s * c + i), x.get(i));
            }
        }
        return new Tensor(prefix + "x_rwkvag", TensorType.FP32, new int[] {c, 1, 6}, data);
    }

    private static long[] append1(long[] shape) {
        long[] s = Arrays.copyOf(shape, shape.length + 1);
        s[shape.length] = 1;
        return s;
    }

    /** The shape with its last two dimensions swapped; the tensor must have {@code dims} dimensions. */
    private static long[] transposed(Path path, CheckpointTensor t, long[] shape, int dims) throws ModelFormatException {
        if (shape.length != dims) {
            throw new ModelFormatException(path, "tensor '" + t.name() + "' has shape " + t.shapeString() + ", expected "
                    + dims + " dimensions");
        }
        long[] s = shape.clone();
        s[dims - 1] = shape[dims - 2];
        s[dims - 2] = shape[dims - 1];
        return s;
    }

    private static int[] ggmlOrder(Path path, String name, long[] shape) throws ModelFormatException {
        if (shape.length < 1 || shape.length > 3) {
            throw new ModelFormatException(path, "tensor '" + name + "' has " + shape.length + " dimensions in rwkv.cpp's "
                    + "layout (" + Arrays.toString(shape) + "); 1 to 3 are possible");
        }
        int[] ne = new int[shape.length];
        for (int i = 0; i < ne.length; i++) {
            long d = shape[shape.length - 1 - i];
            if (d < 1 || d > Integer.MAX_VALUE) {
                throw new ModelFormatException(path, "tensor '" + name + "' has a dimension of " + d);
            }
            ne[i] = (int) d;
        }
        return ne;
    }

    private static ByteBuffer allocate(Path path, String name, long elements, TensorType type)
            throws ModelFormatException {
        long bytes = type.bytesFor(elements);
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(path, "tensor '" + name + "' is too large to convert in memory");
        }
        return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
