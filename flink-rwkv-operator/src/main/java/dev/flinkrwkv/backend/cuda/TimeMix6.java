package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.model.Tensor;
import jcuda.driver.CUdeviceptr;

/**
 * RWKV-6 time mix on the device (see Rwkv6 on the CPU): the data-dependent token shift (maa LoRA, five
 * outputs in the order w, k, v, r, g), the data-dependent decay, the WKV fused with the group norm, the
 * silu gate.
 */
final class TimeMix6 extends GpuTimeMix {
    static final float GROUP_NORM_EPS = 64e-5f;
    private static final int W = 0, K = 1, V = 2, R = 3, G = 4;
    private static final String[] MAA = {"w", "k", "v", "r", "g"};

    private final int maaRank, decayRank;
    private final CUdeviceptr[] maaX, decayBase, bonus, lnXW, lnXB;
    private final CUdeviceptr[][] maa;
    private final DeviceMatrix[] maaW1, decayW1, decayW2, gate;
    private final DeviceMatrix[][] maaW2;

    TimeMix6(ModelFile f, DeviceMemory mem, GpuModel m) throws ModelFormatException {
        super(f, mem, m);
        int l = m.layers;
        maaRank = f.tensor("blocks.0.att.time_maa_w1").rows() / 5;
        decayRank = f.tensor("blocks.0.att.time_decay_w1").rows();
        maaX = new CUdeviceptr[l];
        decayBase = new CUdeviceptr[l];
        bonus = new CUdeviceptr[l];
        lnXW = new CUdeviceptr[l];
        lnXB = new CUdeviceptr[l];
        maa = new CUdeviceptr[l][5];
        maaW1 = new DeviceMatrix[l];
        maaW2 = new DeviceMatrix[l][5];
        decayW1 = new DeviceMatrix[l];
        decayW2 = new DeviceMatrix[l];
        gate = new DeviceMatrix[l];
        for (int i = 0; i < l; i++) {
            String p = prefix(i);
            maaX[i] = mem.vector(f.tensor(p + "time_maa_x"));
            for (int s = 0; s < 5; s++) {
                maa[i][s] = mem.vector(f.tensor(p + "time_maa_" + MAA[s]));
            }
            maaW1[i] = mem.matrix(f.tensor(p + "time_maa_w1"));
            // ne (D, C, 5): five slabs of C rows x D, stacked; slab s is rows [s*C, (s+1)*C)
            Tensor w2 = f.tensor(p + "time_maa_w2");
            DeviceMatrix all = mem.matrix(w2);
            for (int s = 0; s < 5; s++) {
                maaW2[i][s] = all.rows(s * m.c, m.c);
            }
            decayBase[i] = mem.vector(f.tensor(p + "time_decay"));
            decayW1[i] = mem.matrix(f.tensor(p + "time_decay_w1"));
            decayW2[i] = mem.matrix(f.tensor(p + "time_decay_w2"));
            bonus[i] = mem.vector(f.tensor(p + "time_faaaa"));
            lnXW[i] = mem.vector(f.tensor(p + "ln_x.weight"));
            lnXB[i] = mem.vector(f.tensor(p + "ln_x.bias"));
            gate[i] = mem.matrix(f.tensor(p + "gate.weight"));
        }
    }

    @Override
    int hiddenWidth() {
        return Math.max(5 * maaRank, decayRank);
    }

    @Override
    void run(Pass p, int layer) {
        Workspace w = p.ws;
        Kernels k = p.k;
        shift(p, layer);
        // data-dependent token shift: xxx = (prev - X)*maa_x + X, hid = tanh(W1 xxx), then per chunk s
        // mixed_s = (W2_s hid_s + maa_s)*(prev - X) + X
        CUdeviceptr xxx = w.mix[5];
        p.ew(Kernels.OP_ADDMIX, xxx, w.xn, w.prev, Kernels.NULL, maaX[layer]);
        int hid = 5 * maaRank;
        k.matmul(p.stream, maaW1[layer], xxx, 0, m.c, w.hidden, 0, hid, p.n);
        p.ewWide(Kernels.OP_TANH, hid, w.hidden, w.hidden, Kernels.NULL, Kernels.NULL, Kernels.NULL);
        for (int s = 0; s < 5; s++) {
            k.matmul(p.stream, maaW2[layer][s], w.hidden, s * maaRank, hid, w.y, 0, m.c, p.n);
            p.ew(Kernels.OP_MAA, w.mix[s], w.y, w.prev, w.xn, maa[layer][s]);
        }
        p.mm(receptance[layer], w.mix[R], w.r);
        p.mm(key[layer], w.mix[K], w.k);
        p.mm(value[layer], w.mix[V], w.v);
        p.mm(gate[layer], w.mix[G], w.g);
        p.ew(Kernels.OP_SILU, w.g, w.g, Kernels.NULL, Kernels.NULL, Kernels.NULL);
        // data-dependent decay: w = exp(-exp(decay + W2 tanh(W1 xw)))
        p.lowRank(decayW1[layer], decayW2[layer], w.mix[W], w.w, Kernels.OP_TANH);
        p.ew(Kernels.OP_V6_DECAY, w.w, w.w, Kernels.NULL, Kernels.NULL, decayBase[layer]);
        k.wkv5(p.stream, m.heads, m.headSize, w.r, w.k, w.v, bonus[layer], w.w, m.c, w.g, lnXW[layer], lnXB[layer],
                GROUP_NORM_EPS, p.states, p.slots, m.stateSize, p.layerOffset(layer) + HEADS * m.c, m.c,
                p.tokensPerState, p.numStates, w.y);
        p.mm(output[layer], w.y, w.out);
        p.addResidual(w.out);
    }
}
