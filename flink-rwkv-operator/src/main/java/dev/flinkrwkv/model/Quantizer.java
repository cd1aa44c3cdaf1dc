package dev.flinkrwkv.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

/**
 * Converts an FP32, FP16 or BF16 model file to another storage type, producing what rwkv.cpp produces.
 *
 * <p>For the quantized types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) this is rwkv.cpp's
 * {@code rwkv_quantize_model_file}: tensors in the input's order; only 2-D FP32/FP16 tensors are
 * quantized, except the embedding, the head and the tensors the caller's rule keeps unquantized (rwkv.cpp's
 * list of names, which the RWKV version specs hold: v7's LoRA matrices; {@link #quantizes}); FP16 input is
 * widened to float exactly before quantizing; everything else is copied unchanged; the header says
 * file version 101 and the target type. The rows are encoded by {@link Quantize}, which rounds as
 * ggml's reference quantizers do, so the output equals rwkv.cpp's byte for byte.
 *
 * <p>FP16, BF16 and FP32 are offered too (rwkv.cpp's quantizer refuses them): FP16 stores in half the
 * tensors that rwkv.cpp's PyTorch converter stores in half ({@link #storesAsHalf}), BF16 stores the same
 * tensors as bfloat16 (a flink-rwkv-only type, see {@link TensorType#BF16}), FP32 widens every tensor,
 * which undoes an FP16 or BF16 conversion exactly. The input may be FP32, FP16 or BF16.
 *
 * <p>The input is memory-mapped and the output streamed a row at a time, so memory use does not grow
 * with the model. It may be anything {@link ModelFile#open} reads: an official PyTorch or safetensors
 * checkpoint is first the model its rwkv.cpp conversion holds ({@link Checkpoint}), so converting one to
 * FP32 or FP16 writes what rwkv.cpp's converter writes.
 */
public final class Quantizer {
    /** Substrings of tensor names that rwkv.cpp's converter keeps in FP32 in an FP16 file. */
    private static final List<String> KEPT_FP32_IN_FP16 = List.of(
            ".time_", ".k_k", ".k_a", ".r_k", ".x_rwkvag", ".x_k", ".w0", ".a0", ".v0");

    private Quantizer() {}

    /** What a conversion did: tensors converted and sizes before and after. */
    public record Result(int tensors, int converted, long inputBytes, long outputBytes) {}

    /**
     * Whether rwkv.cpp's quantizer quantizes a tensor of this name and number of dimensions: 2-D tensors
     * but the embedding, the head and those {@code keptUnquantized} names (the version's rule).
     */
    public static boolean quantizes(String name, int dims, Predicate<String> keptUnquantized) {
        return dims == 2 && !name.equals("emb.weight") && !name.equals("head.weight") && !keptUnquantized.test(name);
    }

    /** Whether rwkv.cpp's converter stores a tensor of this name and number of dimensions as FP16 in an FP16 file. */
    public static boolean storesAsHalf(String name, int dims) {
        if (dims < 2) {
            return false;
        }
        for (String s : KEPT_FP32_IN_FP16) {
            if (name.contains(s)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The storage type of one tensor when a model is stored as {@code target}: the target type where
     * rwkv.cpp's converter (FP16, and BF16 alike) or quantizer (block types) would use it, else FP32.
     */
    public static TensorType storageFor(String name, int dims, TensorType target, Predicate<String> keptUnquantized) {
        switch (target) {
            case FP32:
                return TensorType.FP32;
            case FP16:
            case BF16:
                return storesAsHalf(name, dims) ? target : TensorType.FP32;
            default:
                return quantizes(name, dims, keptUnquantized) ? target : TensorType.FP32;
        }
    }

    /**
     * Converts {@code in} to {@code target}, writing {@code out} (replaced atomically when complete); a block
     * type leaves the tensors {@code keptUnquantized} names in their type.
     */
    public static Result convert(Path in, Path out, TensorType target, Predicate<String> keptUnquantized)
            throws IOException {
        if (Files.exists(in) && Files.exists(out) && Files.isSameFile(in, out)) {
            throw new IllegalArgumentException("the output " + out + " is the input file; write to another file");
        }
        ModelFile file = ModelFile.open(in);
        TensorType main = TensorType.ofCode(file.mainTypeCode());
        if (main == null || main.isQuantized()) {
            throw new IllegalArgumentException(in + " is already " + (main == null ? "type " + file.mainTypeCode() : main)
                    + "; convert from its FP32, FP16 or BF16 file");
        }
        int converted = 0;
        try (ModelWriter w = ModelWriter.create(out, 101, file.vocab(), file.embed(), file.layers(), target.code)) {
            float[] row = new float[0];
            for (Tensor t : file.tensors().values()) {
                TensorType to = convertedType(t, target, keptUnquantized);
                if (to == t.type()) {
                    w.write(t);
                    continue;
                }
                if (to.isQuantized() && t.cols() % to.blockElements != 0) {
                    throw new IllegalArgumentException("tensor '" + t.name() + "' cannot be " + to + ": its rows of "
                            + t.cols() + " values are not a multiple of " + to.blockElements);
                }
                if (row.length < t.cols()) {
                    row = new float[t.cols()];
                }
                float[] buf = row;
                w.write(t.name(), to, t.shape(), (r, o) -> {
                    t.dequantizeRow(r, buf, 0);
                    to.storage.encode(buf, 0, t.cols(), o);
                });
                converted++;
            }
            w.finish();
            return new Result(file.tensors().size(), converted, file.size(), Files.size(out));
        }
    }

    /**
     * The type a tensor of the input gets: only FP32/FP16/BF16 tensors change, and only where the rules say
     * (a tensor the rules keep in FP32 keeps the type it has).
     */
    private static TensorType convertedType(Tensor t, TensorType target, Predicate<String> keptUnquantized) {
        if (t.type().isQuantized()) {
            return t.type();
        }
        switch (target) {
            case FP32:
                return TensorType.FP32;
            case FP16:
            case BF16:
                return storesAsHalf(t.name(), t.dims()) ? target : t.type();
            default:
                return quantizes(t.name(), t.dims(), keptUnquantized) ? target : t.type();
        }
    }
}
