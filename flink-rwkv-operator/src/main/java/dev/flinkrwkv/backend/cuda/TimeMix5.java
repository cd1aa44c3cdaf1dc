package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.model.RwkvVersion;
import jcuda.driver.CUdeviceptr;

/**
 * RWKV-5.1 and 5.2 time mix on the device (see Rwkv5 on the CPU): lerp shift, r/k/v (no sigmoid on r),
 * the matrix-state WKV fused with the group norm, and in 5.2 the silu gate.
 */
final class TimeMix5 extends GpuTimeMix {
    static final float GROUP_NORM_EPS = 1e-5f;

    private final boolean gated;
    private final CUdeviceptr[] mixK, mixV, mixR, mixG, bonus, decay, lnXW, lnXB;
    private final DeviceMatrix[] gate;

    TimeMix5(ModelFile f, DeviceMemory mem, GpuModel m) throws ModelFormatException {
        super(f, mem, m);
        int l = m.layers;
        gated = m.version == RwkvVersion.V5_2;
        mixK = new CUdeviceptr[l];
        mixV = new CUdeviceptr[l];
        mixR = new CUdeviceptr[l];
        mixG = new CUdeviceptr[l];
        bonus = new CUdeviceptr[l];
        decay = new CUdeviceptr[l];
        lnXW = new CUdeviceptr[l];
        lnXB = new CUdeviceptr[l];
        gate = new DeviceMatrix[l];
        for (int i = 0; i < l; i++) {
            String p = prefix(i);
            mixK[i] = mem.vector(f.tensor(p + "time_mix_k"));
            mixV[i] = mem.vector(f.tensor(p + "time_mix_v"));
            mixR[i] = mem.vector(f.tensor(p + "time_mix_r"));
            if (gated) {
                mixG[i] = mem.vector(f.tensor(p + "time_mix_g"));
                bonus[i] = mem.vector(f.tensor(p + "time_faaaa"));
                decay[i] = mem.vector(f.tensor(p + "time_decay"));
                gate[i] = mem.matrix(f.tensor(p + "gate.weight"));
            } else {
                // 5.1 keeps one bonus and one decay per head: broadcast to the head's channels
                bonus[i] = mem.upload(perHead(f.tensor(p + "time_first").toFloats()));
                decay[i] = mem.upload(perHead(f.tensor(p + "time_decay").toFloats()));
            }
            lnXW[i] = mem.vector(f.tensor(p + "ln_x.weight"));
            lnXB[i] = mem.vector(f.tensor(p + "ln_x.bias"));
        }
    }

    private float[] perHead(float[] h) {
        float[] out = new float[m.c];
        for (int i = 0; i < m.c; i++) {
            out[i] = h[i / m.headSize];
        }
        return out;
    }

    @Override
    int hiddenWidth() {
        return 0;
    }

    @Override
    void run(Pass p, int layer) {
        Workspace w = p.ws;
        lerpShiftProjections(p, layer, mixK[layer], mixV[layer], mixR[layer]);
        CUdeviceptr g = Kernels.NULL;
        if (gated) {
            CUdeviceptr xg = w.mix[3];
            p.ew(Kernels.OP_LERP, xg, w.xn, w.prev, Kernels.NULL, mixG[layer]);
            p.mm(gate[layer], xg, w.g);
            p.ew(Kernels.OP_SILU, w.g, w.g, Kernels.NULL, Kernels.NULL, Kernels.NULL);
            g = w.g;
        }
        p.k.wkv5(p.stream, m.heads, m.headSize, w.r, w.k, w.v, bonus[layer], decay[layer], 0, g, lnXW[layer],
                lnXB[layer], GROUP_NORM_EPS, p.states, p.slots, m.stateSize, p.layerOffset(layer) + HEADS * m.c, m.c,
                p.tokensPerState, p.numStates, w.y);
        p.mm(output[layer], w.y, w.out);
        p.addResidual(w.out);
    }
}
