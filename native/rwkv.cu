// flink-rwkv CUDA kernels: one batched RWKV step (v4, v5.1, v5.2, v6, v7) over N = B*T rows.
//
// Every kernel works on "rows": row n = s*T + t is token t of state s. A batched step over B keys is
// T = 1; sequence mode (many tokens of one key) is B = 1; both at once also works. Activations are
// float32, row-major [N][width]. States live in one device buffer of state slots, each in rwkv.cpp's
// flat layout (see RwkvState in the Java sources); state s of a step is slot slots[s] (at
// slots[s]*stateSize), or slot s when `slots` is null (states gathered for this step only).
//
// The math mirrors the CPU evaluator in dev.flinkrwkv.rwkv (Rwkv4..Rwkv7, ChannelMix, Wkv5, math.Ops)
// and ../shared/docs/rwkv-format-and-math.md: the same operation order in every element-wise step,
// layer/group norm sums in double, IEEE expf/tanhf/sqrtf and division (this file must be built without
// --use_fast_math). Matrix products accumulate in float in a different order than the CPU: that, and
// FMA contraction, are the only differences (last-bit level).
//
// The Java side (dev.flinkrwkv.backend.cuda.Kernels) names every extern "C" entry below and the
// element-wise op codes; keep both in sync (a test parses the PTX's .entry names).

#ifndef RWKV_EMULATE
#include <cuda_fp16.h>
#endif
#include <stdint.h>

#define RWKV_EXTERN extern "C" __global__

__device__ __forceinline__ float sigmoidf_(float x) { return 1.0f / (1.0f + expf(-x)); }

// The state of the step's state s (see the top of this file).
__device__ __forceinline__ float* state_of(float* states, const int* slots, int s, int stateSize) {
    return states + (size_t)(slots != nullptr ? slots[s] : s) * stateSize;
}

// Tree sum over the block (blockDim.x a power of two, at most the size of sh).
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* sh) {
    const int t = threadIdx.x;
    sh[t] = v;
    __syncthreads();
    for (int s = blockDim.x >> 1; s > 0; s >>= 1) {
        if (t < s) sh[t] += sh[t + s];
        __syncthreads();
    }
    T r = sh[0];
    __syncthreads();
    return r;
}

// ggml_norm over the block's values, one value per thread (y) or a strided row (layer norm below):
// mean and variance summed in double, the rest in float.
__device__ __forceinline__ float group_normalize(float y, int n, float eps, double* sh) {
    float mean = (float)(block_sum<double>((double)y, sh) / n);
    float d = y - mean;
    float var = (float)(block_sum<double>((double)(d * d), sh) / n);
    float scale = 1.0f / sqrtf(var + eps);
    return d * scale;
}

// ---------------------------------------------------------------------------------------------------
// Embedding and normalization

// x[n][:] = emb[tokens[n]][:], emb FP32 (half == 0) or FP16.
RWKV_EXTERN void rwkv_embed(const int* tokens, const void* emb, int half, float* x, int n, int c) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n * c) return;
    int row = idx / c, i = idx - row * c;
    size_t at = (size_t)tokens[row] * c + i;
    x[idx] = half ? __half2float(((const __half*)emb)[at]) : ((const float*)emb)[at];
}

#define LN_THREADS 256

// One block (LN_THREADS threads) per row: out = normalize(in)*w + b (two roundings, no FMA). May alias.
RWKV_EXTERN void rwkv_layer_norm(const float* in, float* out, const float* w, const float* b, int c, float eps) {
    __shared__ double sh[LN_THREADS];
    const float* x = in + (size_t)blockIdx.x * c;
    float* y = out + (size_t)blockIdx.x * c;
    double sum = 0;
    for (int i = threadIdx.x; i < c; i += blockDim.x) sum += x[i];
    float mean = (float)(block_sum<double>(sum, sh) / c);
    double sq = 0;
    for (int i = threadIdx.x; i < c; i += blockDim.x) {
        float d = x[i] - mean;
        sq += (double)(d * d);
    }
    float var = (float)(block_sum<double>(sq, sh) / c);
    float scale = 1.0f / sqrtf(var + eps);
    for (int i = threadIdx.x; i < c; i += blockDim.x) {
        float v = (x[i] - mean) * scale;
        v = __fmul_rn(v, w[i]);
        y[i] = __fadd_rn(v, b[i]);
    }
}

// ---------------------------------------------------------------------------------------------------
// Token shift: prev[n] = the previous token's normalized input (from the state slot for each state's
// first row, else the row before), and the slot then holds the state's last row. One thread per
// (state, channel), walking its T rows in order, so the slot is read before it is written.
RWKV_EXTERN void rwkv_shift(const float* xn, float* prev, float* states, const int* slots, int stateSize,
                            int slot, int c, int T, int numStates) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= numStates * c) return;
    int s = idx / c, i = idx - s * c;
    float* p = state_of(states, slots, s, stateSize) + slot + i;
    float old = *p;
    for (int t = 0; t < T; t++) {
        size_t at = ((size_t)s * T + t) * c + i;
        prev[at] = old;
        old = xn[at];
    }
    *p = old;
}

// ---------------------------------------------------------------------------------------------------
// Element-wise steps over `total` values; `vec` (when used) is a per-channel vector of length c.
// Op codes are mirrored in Kernels.java.
enum {
    OP_ADD = 0,          // a + b                       (residual)
    OP_SIGMOID_MUL = 1,  // sigmoid(a) * b              (channel-mix receptance gate)
    OP_TANH = 2,         // tanh(a)
    OP_SIGMOID = 3,      // sigmoid(a)
    OP_SILU = 4,         // a / (1 + exp(-a))
    OP_SQRELU = 5,       // relu(a)^2
    OP_LERP = 6,         // a*vec + (b - b*vec)          (v4/v5 token shift: a = X, b = prev)
    OP_ADDMIX = 7,       // (b - a)*vec + a              (v6/v7 token shift: a = X, b = prev)
    OP_MAA = 8,          // (a + vec)*(b - d) + d        (v6 data-dependent shift: a = lora, b = prev, d = X)
    OP_V6_DECAY = 9,     // exp(-exp(a + vec))
    OP_V7_A = 10,        // sigmoid(a + vec)
    OP_V7_DECAY = 11,    // exp(sigmoid(a + vec) * -0.606531)
    OP_V7_VMIX = 12      // a + (b - a)*sigmoid(d + vec) (v7 value residual: a = v, b = v_first, d = lora)
};

RWKV_EXTERN void rwkv_elementwise(int op, int total, int c, float* out, const float* a, const float* b,
                                  const float* d, const float* vec) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    int i = idx % c;
    float r;
    switch (op) {
        case OP_ADD: r = a[idx] + b[idx]; break;
        case OP_SIGMOID_MUL: r = sigmoidf_(a[idx]) * b[idx]; break;
        case OP_TANH: r = tanhf(a[idx]); break;
        case OP_SIGMOID: r = sigmoidf_(a[idx]); break;
        case OP_SILU: r = a[idx] / (1.0f + expf(-a[idx])); break;
        case OP_SQRELU: { float x = a[idx] > 0.0f || isnan(a[idx]) ? a[idx] : 0.0f; r = x * x; break; }  // NaN stays NaN, as Ops.squaredRelu
        case OP_LERP: { float p = b[idx]; r = a[idx] * vec[i] + (p - p * vec[i]); break; }
        case OP_ADDMIX: r = (b[idx] - a[idx]) * vec[i] + a[idx]; break;
        case OP_MAA: r = (a[idx] + vec[i]) * (b[idx] - d[idx]) + d[idx]; break;
        case OP_V6_DECAY: r = expf(-expf(a[idx] + vec[i])); break;
        case OP_V7_A: r = sigmoidf_(a[idx] + vec[i]); break;
        case OP_V7_DECAY: r = expf(sigmoidf_(a[idx] + vec[i]) * -0.606531f); break;
        case OP_V7_VMIX: r = a[idx] + (b[idx] - a[idx]) * sigmoidf_(d[idx] + vec[i]); break;
        default: r = __int_as_float(0x7fc00000); // NaN: an unknown op must not pass silently
    }
    out[idx] = r;
}

// ---------------------------------------------------------------------------------------------------
// RWKV-4 WKV: per (state, channel), numerator aa, denominator bb, max exponent pp in the state's
// slots 2..4 of the layer. out = sigmoid(r) * wkv.
RWKV_EXTERN void rwkv_wkv4(const float* r, const float* k, const float* v, const float* u, const float* w,
                           float* states, const int* slots, int stateSize, int layerOffset, int c, int T,
                           int numStates, float* out) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= numStates * c) return;
    int s = idx / c, i = idx - s * c;
    float* st = state_of(states, slots, s, stateSize) + layerOffset;
    float aa = st[2 * c + i], bb = st[3 * c + i], pp = st[4 * c + i];
    const float ui = u[i], wi = w[i];
    for (int t = 0; t < T; t++) {
        size_t at = ((size_t)s * T + t) * c + i;
        float kk = k[at], vv = v[at];
        float ww = ui + kk;
        float q = fmaxf(pp, ww);
        float e1 = expf(pp - q), e2 = expf(ww - q);
        float num = e1 * aa + e2 * vv;
        float den = e1 * bb + e2;
        float ww2 = pp + wi;
        float q2 = fmaxf(ww2, kk);
        float f1 = expf(ww2 - q2), f2 = expf(kk - q2);
        aa = f1 * aa + f2 * vv;
        bb = f1 * bb + f2;
        pp = q2;
        out[at] = sigmoidf_(r[at]) * (num / den);
    }
    st[2 * c + i] = aa;
    st[3 * c + i] = bb;
    st[4 * c + i] = pp;
}

// ---------------------------------------------------------------------------------------------------
// RWKV-5/6 WKV, fused with the group norm of the head and the gate. Grid (numStates, H), block S:
// thread j owns column j (value channel) of the head's S x S state, kept in registers across the T
// tokens. The state matrix is [key i][value j]; output reads the old state.
//   y_j = sum_i r_i (k_i v_j u_i + St_ij);   St_ij = St_ij w_i + k_i v_j
// then y = GN(y)*lnw + lnb, times g (g null: no gate, v5.1). w has stride wStride per row (0: one
// vector for all rows, v5; c: per token, v6).
template <int S>
__device__ __forceinline__ void wkv5(const float* r, const float* k, const float* v, const float* u,
                                     const float* w, int wStride, const float* g, const float* lnw,
                                     const float* lnb, float eps, float* states, const int* slots,
                                     int stateSize, int headsOffset, int c, int T, float* out) {
    __shared__ float sr[S], sk[S], su[S], sw[S];
    __shared__ double red[S];
    const int s = blockIdx.x, h = blockIdx.y, j = threadIdx.x, hc = h * S;
    float* st = state_of(states, slots, s, stateSize) + headsOffset + (size_t)h * S * S;
    float col[S];
#pragma unroll
    for (int i = 0; i < S; i++) col[i] = st[i * S + j];
    su[j] = u[hc + j];
    for (int t = 0; t < T; t++) {
        const size_t n = (size_t)s * T + t;
        const size_t base = n * c + hc;
        sr[j] = r[base + j];
        sk[j] = k[base + j];
        sw[j] = w[n * wStride + hc + j];
        __syncthreads();
        const float vj = v[base + j];
        float y = 0.0f;
#pragma unroll
        for (int i = 0; i < S; i++) {
            float kv = sk[i] * vj;
            y += sr[i] * (kv * su[i] + col[i]);
            col[i] = col[i] * sw[i] + kv;
        }
        y = group_normalize(y, S, eps, red);
        y = __fadd_rn(__fmul_rn(y, lnw[hc + j]), lnb[hc + j]);
        if (g != nullptr) y = y * g[base + j];
        out[base + j] = y;
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < S; i++) st[i * S + j] = col[i];
}

#define WKV5_ENTRY(S)                                                                                     \
    RWKV_EXTERN void __launch_bounds__(S) rwkv_wkv5_s##S(                                                 \
        const float* r, const float* k, const float* v, const float* u, const float* w, int wStride,      \
        const float* g, const float* lnw, const float* lnb, float eps, float* states, const int* slots,   \
        int stateSize, int headsOffset, int c, int T, float* out) {                                       \
        wkv5<S>(r, k, v, u, w, wStride, g, lnw, lnb, eps, states, slots, stateSize, headsOffset, c, T, out); \
    }
WKV5_ENTRY(8)
WKV5_ENTRY(16)
WKV5_ENTRY(32)
WKV5_ENTRY(64)
WKV5_ENTRY(128)

// ---------------------------------------------------------------------------------------------------
// RWKV-7 WKV (generalized delta rule), fused with the key normalization, the key scaling by a, the
// group norm, the r_k bonus and the gate. Grid (numStates, H), block S: thread q is key channel q for
// the per-key quantities and state row q (value channel) for the recurrence; the row lives in
// registers across the T tokens. The state matrix is [value i][key j]; output reads the new state.
//   kk = l2n(k*k_k);  k' = k + (a*(k*k_a) - k*k_a);  alpha = -kk;  beta = kk*a
//   sa_i = sum_j alpha_j St_ij;  St_ij = (St_ij w_j + v_i k'_j) + sa_i beta_j;  y_i = sum_j St_ij r_j
//   y = GN(y)*lnw + lnb + v_i * sum_j k'_j r_j r_k_j;   y = y * g
template <int S>
__device__ __forceinline__ void wkv7(const float* r, const float* w, const float* k, const float* v,
                                     const float* a, const float* g, const float* kK, const float* kA,
                                     const float* rK, const float* lnw, const float* lnb, float eps,
                                     float* states, const int* slots, int stateSize, int headsOffset, int c,
                                     int T, float* out) {
    __shared__ float sr[S], sw[S], skk[S], skm[S], sa[S];
    __shared__ float redf[S];
    __shared__ double red[S];
    const int s = blockIdx.x, h = blockIdx.y, q = threadIdx.x, hc = h * S;
    float* st = state_of(states, slots, s, stateSize) + headsOffset + (size_t)h * S * S;
    float row[S];
#pragma unroll
    for (int j = 0; j < S; j++) row[j] = st[q * S + j];
    const float kKq = kK[hc + q], kAq = kA[hc + q], rKq = rK[hc + q];
    for (int t = 0; t < T; t++) {
        const size_t base = ((size_t)s * T + t) * c + hc;
        const float kq = k[base + q];
        float kkq = kq * kKq;
        float ss = block_sum<float>(kkq * kkq, redf);
        kkq = kkq * (1.0f / fmaxf(sqrtf(ss), 1e-12f));
        const float aq = a[base + q];
        const float ka = kq * kAq;
        const float kmod = kq + (aq * ka - ka);
        const float rq = r[base + q];
        sr[q] = rq;
        sw[q] = w[base + q];
        skk[q] = kkq;
        skm[q] = kmod;
        sa[q] = aq;
        __syncthreads();
        float sai = 0.0f;
#pragma unroll
        for (int j = 0; j < S; j++) sai += -skk[j] * row[j];
        const float vi = v[base + q];
        float yi = 0.0f;
#pragma unroll
        for (int j = 0; j < S; j++) {
            float beta = skk[j] * sa[j];
            float nx = (row[j] * sw[j] + vi * skm[j]) + sai * beta;
            row[j] = nx;
            yi += nx * sr[j];
        }
        float y = group_normalize(yi, S, eps, red);
        y = __fadd_rn(__fmul_rn(y, lnw[hc + q]), lnb[hc + q]);
        float rho = block_sum<float>(kmod * rq * rKq, redf);
        y = y + vi * rho;
        out[base + q] = y * g[base + q];
        __syncthreads();
    }
#pragma unroll
    for (int j = 0; j < S; j++) st[q * S + j] = row[j];
}

#define WKV7_ENTRY(S)                                                                                     \
    RWKV_EXTERN void __launch_bounds__(S) rwkv_wkv7_s##S(                                                 \
        const float* r, const float* w, const float* k, const float* v, const float* a, const float* g,   \
        const float* kK, const float* kA, const float* rK, const float* lnw, const float* lnb, float eps,  \
        float* states, const int* slots, int stateSize, int headsOffset, int c, int T, float* out) {      \
        wkv7<S>(r, w, k, v, a, g, kK, kA, rK, lnw, lnb, eps, states, slots, stateSize, headsOffset, c, T, out); \
    }
WKV7_ENTRY(8)
WKV7_ENTRY(16)
WKV7_ENTRY(32)
WKV7_ENTRY(64)
WKV7_ENTRY(128)

// ---------------------------------------------------------------------------------------------------
// Matrix products y[n][o] = sum_k W[o][k] * x[n][k] for n < N (rows of activations), o < rows (rows of
// W, stored (out, in) with the input dimension contiguous, FP32 or FP16; accumulation in float, the
// activations are never rounded to half). x and y have row strides xStride, yStride (in floats), so a
// product can read or write a column slice of a wider buffer.

// Memory-bound kernel for small N: one warp per weight row, MM_NB activation rows per block along y,
// 16-byte loads of W (4 floats or 8 halves per lane) when `vec` says the shapes and pointers allow.
#define MM_NB 8
#define MM_WARPS 8

__device__ __forceinline__ void load8h(const __half* p, float* f) {
    uint4 raw = *(const uint4*)p;
    const __half2* h = (const __half2*)&raw;
#pragma unroll
    for (int q = 0; q < 4; q++) {
        float2 t = __half22float2(h[q]);
        f[2 * q] = t.x;
        f[2 * q + 1] = t.y;
    }
}

template <bool HALF>
__device__ __forceinline__ float load_w(const void* W, size_t at) {
    return HALF ? __half2float(((const __half*)W)[at]) : ((const float*)W)[at];
}

template <bool HALF>
__device__ __forceinline__ void matmul_small(const void* W, const float* x, int xStride, float* y, int yStride,
                                             int rows, int cols, int n, int vec) {
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int o = blockIdx.x * MM_WARPS + warp;
    const int b0 = blockIdx.y * MM_NB;
    if (o >= rows) return; // a whole warp leaves; there is no block-wide barrier below
    const int nb = min(MM_NB, n - b0);
    const float* xb = x + (size_t)b0 * xStride;
    float acc[MM_NB];
#pragma unroll
    for (int b = 0; b < MM_NB; b++) acc[b] = 0.0f;
    const size_t rowAt = (size_t)o * cols;
    if (vec) {
        constexpr int V = HALF ? 8 : 4;
        for (int k = lane * V; k < cols; k += 32 * V) {
            float wv[V];
            if (HALF) {
                load8h((const __half*)W + rowAt + k, wv);
            } else {
                float4 f = *(const float4*)((const float*)W + rowAt + k);
                wv[0] = f.x; wv[1] = f.y; wv[2] = f.z; wv[3] = f.w;
            }
#pragma unroll
            for (int b = 0; b < MM_NB; b++) {
                if (b < nb) {
                    const float* xr = xb + (size_t)b * xStride + k;
#pragma unroll
                    for (int j = 0; j < V; j += 4) {
                        float4 xv = *(const float4*)(xr + j);
                        acc[b] += wv[j] * xv.x + wv[j + 1] * xv.y + wv[j + 2] * xv.z + wv[j + 3] * xv.w;
                    }
                }
            }
        }
    } else {
        for (int k = lane; k < cols; k += 32) {
            float wk = load_w<HALF>(W, rowAt + k);
#pragma unroll
            for (int b = 0; b < MM_NB; b++) {
                if (b < nb) acc[b] += wk * xb[(size_t)b * xStride + k];
            }
        }
    }
#pragma unroll
    for (int b = 0; b < MM_NB; b++) {
        float v = acc[b];
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
        if (lane == 0 && b < nb) y[(size_t)(b0 + b) * yStride + o] = v;
    }
}

RWKV_EXTERN void __launch_bounds__(MM_WARPS * 32) rwkv_matmul_small_f32(
        const float* W, const float* x, int xStride, float* y, int yStride, int rows, int cols, int n, int vec) {
    matmul_small<false>(W, x, xStride, y, yStride, rows, cols, n, vec);
}

RWKV_EXTERN void __launch_bounds__(MM_WARPS * 32) rwkv_matmul_small_f16(
        const __half* W, const float* x, int xStride, float* y, int yStride, int rows, int cols, int n, int vec) {
    matmul_small<true>(W, x, xStride, y, yStride, rows, cols, n, vec);
}

// Tiled kernel for large N (compute-bound side): a 64 x 64 tile of Y per block of 256 threads, each
// thread 4 x 4 outputs, K in steps of 16 through shared memory (W widened to float on the way in).
#define TM 64
#define TN 64
#define TK 16

template <bool HALF>
__device__ __forceinline__ void matmul_tiled(const void* W, const float* x, int xStride, float* y, int yStride,
                                             int rows, int cols, int n) {
    __shared__ float xs[TK][TM + 1];
    __shared__ float ws[TK][TN + 1];
    const int tid = threadIdx.x;
    const int tx = tid & 15, ty = tid >> 4; // tx: output rows (W), ty: activation rows (x)
    const int m0 = blockIdx.y * TM, o0 = blockIdx.x * TN;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < cols; k0 += TK) {
#pragma unroll
        for (int q = 0; q < 4; q++) {
            int e = tid + 256 * q;
            int rr = e / TK, kk = e % TK;
            int m = m0 + rr, kg = k0 + kk;
            xs[kk][rr] = (m < n && kg < cols) ? x[(size_t)m * xStride + kg] : 0.0f;
            int o = o0 + rr;
            ws[kk][rr] = (o < rows && kg < cols) ? load_w<HALF>(W, (size_t)o * cols + kg) : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TK; kk++) {
            float xa[4], wb[4];
#pragma unroll
            for (int i = 0; i < 4; i++) xa[i] = xs[kk][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) wb[j] = ws[kk][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += xa[i] * wb[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int m = m0 + ty + 16 * i;
        if (m >= n) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int o = o0 + tx + 16 * j;
            if (o < rows) y[(size_t)m * yStride + o] = acc[i][j];
        }
    }
}

RWKV_EXTERN void __launch_bounds__(256) rwkv_matmul_tiled_f32(
        const float* W, const float* x, int xStride, float* y, int yStride, int rows, int cols, int n) {
    matmul_tiled<false>(W, x, xStride, y, yStride, rows, cols, n);
}

RWKV_EXTERN void __launch_bounds__(256) rwkv_matmul_tiled_f16(
        const __half* W, const float* x, int xStride, float* y, int yStride, int rows, int cols, int n) {
    matmul_tiled<true>(W, x, xStride, y, yStride, rows, cols, n);
}
