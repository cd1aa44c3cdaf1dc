// Host emulation of the CUDA device features rwkv.cu uses, so its kernels compile with g++ and run on the
// CPU (see fake_libcuda.cpp and README.md). A block's threads are fibers (ucontext) run by a scheduler
// in fake_libcuda.cpp: __syncthreads() yields to it, and it resumes every live thread once per round,
// so a barrier holds once every thread has reached it. __shared__ variables are statics (blocks run one
// after another). Warp shuffles go through a block-wide exchange buffer and two barriers.
#pragma once
#include <math.h>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __shared__ static

struct dim3emu { unsigned x, y, z; };
extern dim3emu threadIdx, blockIdx, blockDim;

void emu_syncthreads();
inline void __syncthreads() { emu_syncthreads(); }

struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) float2 { float x, y; };
struct alignas(16) uint4 { unsigned x, y, z, w; };
struct __half { uint16_t bits; };
struct alignas(4) __half2 { __half x, y; };

inline float __half2float(__half h) {
    uint32_t s = (h.bits & 0x8000u) << 16, e = (h.bits >> 10) & 0x1f, m = h.bits & 0x3ff, f;
    if (e == 0) {
        if (m == 0) { f = s; }
        else { // subnormal: normalize
            int k = -1;
            do { k++; m <<= 1; } while ((m & 0x400) == 0);
            f = s | ((uint32_t)(127 - 15 - k) << 23) | ((m & 0x3ff) << 13);
        }
    } else if (e == 31) {
        f = s | 0x7f800000u | (m << 13);
    } else {
        f = s | ((e + 127 - 15) << 23) | (m << 13);
    }
    float out;
    std::memcpy(&out, &f, 4);
    return out;
}
inline float2 __half22float2(__half2 h) { return float2{__half2float(h.x), __half2float(h.y)}; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline int min(int a, int b) { return a < b ? a : b; }

float emu_shfl_xor(float v, int lane_mask);
inline float __shfl_xor_sync(unsigned, float v, int lane_mask) { return emu_shfl_xor(v, lane_mask); }

