package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.ModelFormatException;
import jcuda.driver.CUdeviceptr;

/** RWKV-4's time mix on the device (see Rwkv4 on the CPU): lerp shift, r/k/v, the aa/bb/pp WKV. */
final class TimeMix4 extends GpuTimeMix {
    private final CUdeviceptr[] mixK, mixV, mixR, first, decay;

    TimeMix4(ModelFile f, DeviceMemory mem, GpuModel m) throws ModelFormatException {
        super(f, mem, m);
        int l = m.layers;
        mixK = new CUdeviceptr[l];
        mixV = new CUdeviceptr[l];
        mixR = new CUdeviceptr[l];
        first = new CUdeviceptr[l];
        decay = new CUdeviceptr[l];
        for (int i = 0; i < l; i++) {
            String p = prefix(i);
            mixK[i] = mem.vector(f.tensor(p + "time_mix_k"));
            mixV[i] = mem.vector(f.tensor(p + "time_mix_v"));
            mixR[i] = mem.vector(f.tensor(p + "time_mix_r"));
            first[i] = mem.vector(f.tensor(p + "time_first"));
            decay[i] = mem.vector(f.tensor(p + "time_decay"));
        }
    }

    @Override
    int hiddenWidth() {
        return 0;
    }

    @Override
    void run(Pass p, int layer) {
        Workspace w = p.ws;
        lerpShiftProjections(p, layer, mixK[layer], mixV[layer], mixR[layer]);
        p.k.wkv4(p.stream, w.r, w.k, w.v, first[layer], decay[layer], p.states, p.slots, m.stateSize,
                p.layerOffset(layer), m.c, p.tokensPerState, p.numStates, w.y);
        p.mm(output[layer], w.y, w.out);
        p.addResidual(w.out);
    }
}
