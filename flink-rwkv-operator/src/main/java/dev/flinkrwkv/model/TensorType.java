package dev.flinkrwkv.model;

import dev.flinkrwkv.tensor.Bf16;
import dev.flinkrwkv.tensor.Fp16;
import dev.flinkrwkv.tensor.Fp32;
import dev.flinkrwkv.tensor.Storage;

/**
 * Storage types of rwkv.cpp model files, with rwkv.cpp's own type codes (not ggml's enum numbers). Each
 * names its {@link Storage}, the class that owns the type's bits: its size, decoding, encoding and kernels.
 * Quantized types store blocks of 32 values along a row; a block never crosses a row.
 *
 * <p>{@link #BF16} is not an rwkv.cpp type: rwkv.cpp's format has no code for it, so it has one of its own,
 * {@code 0xBF16}, far from rwkv.cpp's codes (0 to 16, in sequence) so that a type rwkv.cpp adds later does
 * not collide with it. A file holding BF16 tensors is read by flink-rwkv only (rwkv.cpp refuses the code);
 * convert it with {@code quantize --type FP16} (or FP32, or a block type) for rwkv.cpp.
 */
public enum TensorType {
    FP32(0, new Fp32()),
    FP16(1, new Fp16()),
    Q4_0(2, new dev.flinkrwkv.tensor.Q4_0()),
    Q4_1(3, new dev.flinkrwkv.tensor.Q4_1()),
    Q5_0(7, new dev.flinkrwkv.tensor.Q5_0()),
    Q5_1(8, new dev.flinkrwkv.tensor.Q5_1()),
    Q8_0(9, new dev.flinkrwkv.tensor.Q8_0()),
    /** bfloat16: the top 16 bits of a float32 (PyTorch's {@code torch.bfloat16}); flink-rwkv files only. */
    BF16(0xBF16, new Bf16());

    /** The code in the file's header and tensor records. */
    public final int code;
    /** Values per block (1 for the float types). */
    public final int blockElements;
    /** Bytes per block. */
    public final int blockBytes;
    /** The type's layout: its decoding, encoding and kernels. */
    public final Storage storage;

    TensorType(int code, Storage storage) {
        this.code = code;
        this.storage = storage;
        this.blockElements = storage.blockElements;
        this.blockBytes = storage.blockBytes;
    }

    public boolean isQuantized() {
        return storage.isQuantized();
    }

    /** Bytes taken by {@code elements} values (a multiple of the block size for quantized types). */
    public long bytesFor(long elements) {
        return storage.bytesFor(elements);
    }

    /** The type for a code, or null when the code names no type this reader supports. */
    public static TensorType ofCode(int code) {
        for (TensorType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }

    /** The names of the supported types, for error messages. */
    static final String NAMES = "FP32, FP16, BF16, Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0";

    /** Why a code is refused, for error messages. */
    static String whyUnsupported(int code) {
        if (code >= 4 && code <= 6) {
            return "type code " + code + " is a removed rwkv.cpp format (Q4_1_O, Q4_2 or Q4_3); re-quantize the model";
        }
        if (code >= 10 && code <= 16) {
            return "type code " + code + " (Q8_1 or a K-quant) is not supported; use " + NAMES;
        }
        return "unknown type code " + code;
    }

    /** Parses a name such as {@code Q5_1}, {@code fp16} or {@code bf16}. */
    public static TensorType parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown storage type '" + name
                    + "'; expected one of " + NAMES);
        }
    }
}
