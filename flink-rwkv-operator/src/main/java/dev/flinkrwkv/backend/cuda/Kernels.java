package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.model.TensorType;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;

/**
 * The kernels of {@code native/rwkv.cu} as seen from Java: every entry's name and parameter signature, the
 * element-wise op codes, and typed launchers that pick grid and block sizes.
 *
 * <p>A signature is one letter per kernel parameter: {@code p} a device pointer (PTX {@code .u64}),
 * {@code i} an int ({@code .u32}), {@code f} a float ({@code .f32}). Each launch checks its arguments
 * against the signature, and a test checks the signatures against the packaged PTX, so a parameter
 * added on one side only fails loudly rather than corrupting memory.
 */
final class Kernels {
    /** Head sizes with a WKV kernel instance (the state row is a register array of this length). */
    static final int[] HEAD_SIZES = {8, 16, 32, 64, 128};

    // Element-wise op codes: the enum in rwkv.cu.
    static final int OP_ADD = 0, OP_SIGMOID_MUL = 1, OP_TANH = 2, OP_SIGMOID = 3, OP_SILU = 4, OP_SQRELU = 5,
            OP_LERP = 6, OP_ADDMIX = 7, OP_MAA = 8, OP_V6_DECAY = 9, OP_V7_A = 10, OP_V7_DECAY = 11,
            OP_V7_VMIX = 12;

    /** Activation rows up to which a product uses the memory-bound kernel (one warp per weight row). */
    static final int SMALL_BATCH = 16;

    private static final int THREADS = 256;
    private static final int LN_THREADS = 256; // LN_THREADS in rwkv.cu
    private static final int MM_NB = 8, MM_WARPS = 8, TILE = 64; // MM_NB, MM_WARPS, TM/TN in rwkv.cu

    /** Entry name to signature, in the order of rwkv.cu. */
    static final Map<String, String> SIGNATURES;

    static {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("rwkv_embed", "ppipii");
        m.put("rwkv_layer_norm", "ppppif");
        m.put("rwkv_shift", "ppppiiiii");
        m.put("rwkv_elementwise", "iiippppp");
        m.put("rwkv_wkv4", "pppppppiiiiip");
        for (int s : HEAD_SIZES) {
            m.put(wkv5Name(s), "pppppipppfppiiiip");
        }
        for (int s : HEAD_SIZES) {
            m.put(wkv7Name(s), "pppppppppppfppiiiip");
        }
        m.put("rwkv_matmul_small_f32", "ppipiiiii");
        m.put("rwkv_matmul_small_f16", "ppipiiiii");
        m.put("rwkv_matmul_tiled_f32", "ppipiiii");
        m.put("rwkv_matmul_tiled_f16", "ppipiiii");
        SIGNATURES = Collections.unmodifiableMap(m);
    }

    static String wkv5Name(int headSize) {
        return "rwkv_wkv5_s" + headSize;
    }

    static String wkv7Name(int headSize) {
        return "rwkv_wkv7_s" + headSize;
    }

    static boolean hasWkvFor(int headSize) {
        for (int s : HEAD_SIZES) {
            if (s == headSize) {
                return true;
            }
        }
        return false;
    }

    /** A null device pointer argument (for optional inputs such as the v5.1 gate or the slot table). */
    static final CUdeviceptr NULL = new CUdeviceptr();

    private final Map<String, CUfunction> functions = new LinkedHashMap<>();

    Kernels(CUmodule module) {
        for (String name : SIGNATURES.keySet()) {
            CUfunction f = new CUfunction();
            cuModuleGetFunction(f, module, name);
            functions.put(name, f);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Typed launchers. Pointers are device pointers; sizes are in elements.

    /** x[n][:] = emb[tokens[n]][:]. */
    void embed(CUstream s, CUdeviceptr tokens, DeviceMatrix emb, CUdeviceptr x, int n, int c) {
        launch(s, "rwkv_embed", blocks(n * c), 1, THREADS, tokens, emb.ptr(), emb.isHalf() ? 1 : 0, x, n, c);
    }

    /** Each of {@code rows} rows: out = LN(in; w, b) with eps (in and out may be the same). */
    void layerNorm(CUstream s, CUdeviceptr in, CUdeviceptr out, CUdeviceptr w, CUdeviceptr b, int rows, int c, float eps) {
        launch(s, "rwkv_layer_norm", rows, 1, LN_THREADS, in, out, w, b, c, eps);
    }

    /** Token shift: prev rows from the state slot at float {@code slot} of each state, which then holds the last row. */
    void shift(CUstream s, CUdeviceptr xn, CUdeviceptr prev, CUdeviceptr states, CUdeviceptr slots, int stateSize,
               int slot, int c, int tokensPerState, int numStates) {
        launch(s, "rwkv_shift", blocks(numStates * c), 1, THREADS, xn, prev, states, slots, stateSize, slot, c,
                tokensPerState, numStates);
    }

    /** An element-wise step over {@code total} values (see the op codes); unused inputs may be {@link #NULL}. */
    void elementwise(CUstream s, int op, int total, int c, CUdeviceptr out, CUdeviceptr a, CUdeviceptr b,
                     CUdeviceptr d, CUdeviceptr vec) {
        launch(s, "rwkv_elementwise", blocks(total), 1, THREADS, op, total, c, out, a, b, d, vec);
    }

    void wkv4(CUstream s, CUdeviceptr r, CUdeviceptr k, CUdeviceptr v, CUdeviceptr u, CUdeviceptr w,
              CUdeviceptr states, CUdeviceptr slots, int stateSize, int layerOffset, int c, int tokensPerState,
              int numStates, CUdeviceptr out) {
        launch(s, "rwkv_wkv4", blocks(numStates * c), 1, THREADS, r, k, v, u, w, states, slots, stateSize,
                layerOffset, c, tokensPerState, numStates, out);
    }

    void wkv5(CUstream s, int heads, int headSize, CUdeviceptr r, CUdeviceptr k, CUdeviceptr v, CUdeviceptr u,
              CUdeviceptr w, int wStride, CUdeviceptr g, CUdeviceptr lnW, CUdeviceptr lnB, float eps,
              CUdeviceptr states, CUdeviceptr slots, int stateSize, int headsOffset, int c, int tokensPerState,
              int numStates, CUdeviceptr out) {
        launch(s, wkv5Name(headSize), numStates, heads, headSize, r, k, v, u, w, wStride, g, lnW, lnB, eps,
                states, slots, stateSize, headsOffset, c, tokensPerState, out);
    }

    void wkv7(CUstream s, int heads, int headSize, CUdeviceptr r, CUdeviceptr w, CUdeviceptr k, CUdeviceptr v,
              CUdeviceptr a, CUdeviceptr g, CUdeviceptr kK, CUdeviceptr kA, CUdeviceptr rK, CUdeviceptr lnW,
              CUdeviceptr lnB, float eps, CUdeviceptr states, CUdeviceptr slots, int stateSize, int headsOffset,
              int c, int tokensPerState, int numStates, CUdeviceptr out) {
        launch(s, wkv7Name(headSize), numStates, heads, headSize, r, w, k, v, a, g, kK, kA, rK, lnW, lnB, eps,
                states, slots, stateSize, headsOffset, c, tokensPerState, out);
    }

    /**
     * y[b*yStride + yOff + o] = sum_k W[o][k] * x[b*xStride + xOff + k] for b < n: the memory-bound kernel
     * up to {@link #SMALL_BATCH} rows, the tiled one above.
     */
    void matmul(CUstream s, DeviceMatrix m, CUdeviceptr x, int xOff, int xStride, CUdeviceptr y, int yOff,
                int yStride, int n) {
        boolean half = m.type() == TensorType.FP16;
        CUdeviceptr xp = offset(x, xOff), yp = offset(y, yOff);
        if (n <= SMALL_BATCH) {
            int vecWidth = half ? 8 : 4;
            // 16-byte loads need every row start of W and x on a 16-byte boundary
            boolean vec = m.cols() % vecWidth == 0 && m.byteOffset() % 16 == 0 && xOff % 4 == 0 && xStride % 4 == 0;
            launch(s, half ? "rwkv_matmul_small_f16" : "rwkv_matmul_small_f32", ceilDiv(m.rows(), MM_WARPS),
                    ceilDiv(n, MM_NB), MM_WARPS * 32, m.ptr(), xp, xStride, yp, yStride, m.rows(), m.cols(), n,
                    vec ? 1 : 0);
        } else {
            launch(s, half ? "rwkv_matmul_tiled_f16" : "rwkv_matmul_tiled_f32", ceilDiv(m.rows(), TILE),
                    ceilDiv(n, TILE), 256, m.ptr(), xp, xStride, yp, yStride, m.rows(), m.cols(), n);
        }
    }

    /** A device pointer {@code floats} floats past {@code p}. */
    static CUdeviceptr offset(CUdeviceptr p, long floats) {
        return floats == 0 ? p : p.withByteOffset(floats * Float.BYTES);
    }

    private static int blocks(long threads) {
        return Math.toIntExact(ceilDiv(threads, THREADS));
    }

    private static int ceilDiv(long a, long b) {
        return Math.toIntExact((a + b - 1) / b);
    }

    private void launch(CUstream stream, String name, int gridX, int gridY, int block, Object... args) {
        String sig = SIGNATURES.get(name);
        if (sig == null || sig.length() != args.length) {
            throw new IllegalStateException("kernel " + name + ": " + args.length + " arguments for signature " + sig);
        }
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            char t = sig.charAt(i);
            if (t == 'p' && a instanceof CUdeviceptr) {
                params[i] = Pointer.to((CUdeviceptr) a);
            } else if (t == 'i' && a instanceof Integer) {
                params[i] = Pointer.to(new int[] {(Integer) a});
            } else if (t == 'f' && a instanceof Float) {
                params[i] = Pointer.to(new float[] {(Float) a});
            } else {
                throw new IllegalStateException("kernel " + name + ": argument " + i + " is " + a
                        + ", signature says '" + t + "'");
            }
        }
        if (gridX < 1 || gridY < 1) {
            return; // nothing to do (an empty batch never gets here, but a zero-sized product might)
        }
        cuLaunchKernel(functions.get(name), gridX, gridY, 1, block, 1, 1, 0, stream, Pointer.to(params), null);
    }
}
