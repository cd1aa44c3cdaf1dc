package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.model.Tensor;
import dev.flinkrwkv.rwkv.Rwkv7Spec;
import jcuda.driver.CUdeviceptr;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;

/**
 * RWKV-7 time mix on the device (see Rwkv7 on the CPU): six shift mixes (r, w, k, v, a, g), the decay,
 * learning-rate, gate and value-residual LoRAs, and the delta-rule WKV fused with the key normalization,
 * group norm, r_k bonus and gate.
 */
final class TimeMix7 extends GpuTimeMix {
    static final float GROUP_NORM_EPS = 64e-5f;
    private static final int R = Rwkv7Spec.R, W = Rwkv7Spec.W, K = Rwkv7Spec.K, V = Rwkv7Spec.V, A = Rwkv7Spec.A,
            G = Rwkv7Spec.G;

    private final CUdeviceptr[][] mix;
    private final CUdeviceptr[] w0, a0, v0, kK, kA, rK, lnXW, lnXB;
    private final DeviceMatrix[] w1, w2, a1, a2, g1, g2, v1, v2;
    private final int maxRank;

    TimeMix7(ModelFile f, DeviceMemory mem, GpuModel m) throws ModelFormatException {
        super(f, mem, m);
        int l = m.layers;
        mix = new CUdeviceptr[l][Rwkv7Spec.MIXES];
        w0 = new CUdeviceptr[l];
        a0 = new CUdeviceptr[l];
        v0 = new CUdeviceptr[l];
        kK = new CUdeviceptr[l];
        kA = new CUdeviceptr[l];
        rK = new CUdeviceptr[l];
        lnXW = new CUdeviceptr[l];
        lnXB = new CUdeviceptr[l];
        w1 = new DeviceMatrix[l];
        w2 = new DeviceMatrix[l];
        a1 = new DeviceMatrix[l];
        a2 = new DeviceMatrix[l];
        g1 = new DeviceMatrix[l];
        g2 = new DeviceMatrix[l];
        v1 = new DeviceMatrix[l];
        v2 = new DeviceMatrix[l];
        int rank = 0;
        for (int i = 0; i < l; i++) {
            String p = prefix(i);
            Tensor x6 = f.tensor(p + "x_rwkvag");
            for (int s = 0; s < Rwkv7Spec.MIXES; s++) {
                mix[i][s] = slab(mem, x6, s, m.c);
            }
            w0[i] = mem.vector(f.tensor(p + "w0"));
            a0[i] = mem.vector(f.tensor(p + "a0"));
            kK[i] = mem.vector(f.tensor(p + "k_k"));
            kA[i] = mem.vector(f.tensor(p + "k_a"));
            rK[i] = mem.vector(f.tensor(p + "r_k"));
            lnXW[i] = mem.vector(f.tensor(p + "ln_x.weight"));
            lnXB[i] = mem.vector(f.tensor(p + "ln_x.bias"));
            w1[i] = mem.matrix(f.tensor(p + "w1"));
            w2[i] = mem.matrix(f.tensor(p + "w2"));
            a1[i] = mem.matrix(f.tensor(p + "a1"));
            a2[i] = mem.matrix(f.tensor(p + "a2"));
            g1[i] = mem.matrix(f.tensor(p + "g1"));
            g2[i] = mem.matrix(f.tensor(p + "g2"));
            rank = Math.max(rank, Math.max(w1[i].rows(), Math.max(a1[i].rows(), g1[i].rows())));
            if (Rwkv7Spec.hasValueResidual(i)) { // block 0 has none: it sets v_first
                v0[i] = mem.vector(f.tensor(p + "v0"));
                v1[i] = mem.matrix(f.tensor(p + "v1"));
                v2[i] = mem.matrix(f.tensor(p + "v2"));
                rank = Math.max(rank, v1[i].rows());
            }
        }
        maxRank = rank;
    }

    @Override
    int hiddenWidth() {
        return maxRank;
    }

    @Override
    void run(Pass p, int layer) {
        Workspace w = p.ws;
        shift(p, layer);
        for (int s = 0; s < 6; s++) {
            p.ew(Kernels.OP_ADDMIX, w.mix[s], w.xn, w.prev, Kernels.NULL, mix[layer][s]);
        }
        p.mm(receptance[layer], w.mix[R], w.r);
        p.lowRank(g1[layer], g2[layer], w.mix[G], w.g, Kernels.OP_SIGMOID);
        p.lowRank(a1[layer], a2[layer], w.mix[A], w.a, -1);
        p.lowRank(w1[layer], w2[layer], w.mix[W], w.w, Kernels.OP_TANH);
        p.ew(Kernels.OP_V7_A, w.a, w.a, Kernels.NULL, Kernels.NULL, a0[layer]);
        p.ew(Kernels.OP_V7_DECAY, w.w, w.w, Kernels.NULL, Kernels.NULL, w0[layer]);
        p.mm(key[layer], w.mix[K], w.k);
        p.mm(value[layer], w.mix[V], w.v);
        if (layer == 0) {
            cuMemcpyDtoDAsync(w.vFirst, w.v, (long) p.n * m.c * Float.BYTES, p.stream);
        } else {
            p.lowRank(v1[layer], v2[layer], w.mix[V], w.y, -1);
            p.ew(Kernels.OP_V7_VMIX, w.v, w.v, w.vFirst, w.y, v0[layer]);
        }
        p.k.wkv7(p.stream, m.heads, m.headSize, w.r, w.w, w.k, w.v, w.a, w.g, kK[layer], kA[layer], rK[layer],
                lnXW[layer], lnXB[layer], GROUP_NORM_EPS, p.states, p.slots, m.stateSize,
                p.layerOffset(layer) + HEADS * m.c, m.c, p.tokensPerState, p.numStates, w.y);
        p.mm(output[layer], w.y, w.out);
        p.addResidual(w.out);
    }
}
