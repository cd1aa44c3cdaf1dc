package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.model.RwkvVersion;
import jcuda.driver.CUdeviceptr;

/**
 * The channel mix of one layer on the device, for every version (the GPU twin of the CPU's ChannelMix):
 * {@code r * (Wv · relu(Wk · xk)^2)}, r = {@code sigmoid(Wr · xr)} (v4, v5, v6) or 1 (v7).
 */
final class GpuChannelMix {
    private final CUdeviceptr lnW, lnB, mixK, mixR; // mixR null for v7
    private final DeviceMatrix key, value, receptance; // receptance null for v7
    private final boolean lerp; // v4/v5 lerp form, else the v6/v7 add form
    final int ffn;

    GpuChannelMix(ModelFile f, DeviceMemory mem, int layer, RwkvVersion version) throws ModelFormatException {
        String p = "blocks." + layer + ".";
        boolean v7 = version == RwkvVersion.V7;
        lerp = version == RwkvVersion.V4 || version == RwkvVersion.V5_1 || version == RwkvVersion.V5_2;
        String kName = lerp ? "time_mix_k" : v7 ? "x_k" : "time_maa_k";
        String rName = lerp ? "time_mix_r" : "time_maa_r";
        lnW = mem.vector(f.tensor(p + "ln2.weight"));
        lnB = mem.vector(f.tensor(p + "ln2.bias"));
        mixK = mem.vector(f.tensor(p + "ffn." + kName));
        mixR = v7 ? null : mem.vector(f.tensor(p + "ffn." + rName));
        key = mem.matrix(f.tensor(p + "ffn.key.weight"));
        value = mem.matrix(f.tensor(p + "ffn.value.weight"));
        receptance = v7 ? null : mem.matrix(f.tensor(p + "ffn.receptance.weight"));
        ffn = key.rows();
    }

    void run(Pass p, int layer) {
        Workspace w = p.ws;
        p.shift(0, layer, lnW, lnB);
        int op = lerp ? Kernels.OP_LERP : Kernels.OP_ADDMIX;
        CUdeviceptr xk = w.mix[0], xr = w.mix[1];
        p.ew(op, xk, w.xn, w.prev, Kernels.NULL, mixK);
        p.mm(key, xk, w.hidden);
        p.ewWide(Kernels.OP_SQRELU, ffn, w.hidden, w.hidden, Kernels.NULL, Kernels.NULL, Kernels.NULL);
        p.mm(value, w.hidden, w.out);
        if (receptance != null) {
            p.ew(op, xr, w.xn, w.prev, Kernels.NULL, mixR);
            p.mm(receptance, xr, w.g);
            p.ew(Kernels.OP_SIGMOID_MUL, w.out, w.g, w.out, Kernels.NULL, Kernels.NULL);
        }
        p.addResidual(w.out);
    }

    long weightBytes() {
        return key.bytes() + value.bytes() + (receptance == null ? 0 : receptance.bytes());
    }
}
