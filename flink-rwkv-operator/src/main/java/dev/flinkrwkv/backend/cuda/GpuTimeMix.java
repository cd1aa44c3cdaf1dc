package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.model.Tensor;
import dev.flinkrwkv.rwkv.MultiHeadSpec;
import dev.flinkrwkv.rwkv.RwkvSpec;
import jcuda.driver.CUdeviceptr;

/**
 * A version's time mix ("attention") on the device, for all layers: {@link TimeMix4}, {@link TimeMix5}
 * (5.1 and 5.2), {@link TimeMix6}, {@link TimeMix7}, each the GPU twin of the CPU class of that version.
 * Each adds its output to the residual stream {@code ws.x} and updates the states.
 */
abstract class GpuTimeMix {
    /** State slot of the time mix's token shift, in units of C (the version specs' layout). */
    static final int ATT_XX = RwkvSpec.ATT_XX;
    /** Offset of the v5/v6/v7 head matrices in a layer, in units of C. */
    static final int HEADS = MultiHeadSpec.HEADS;

    final GpuModel m;
    final CUdeviceptr[] ln1W, ln1B;
    /** The four C x C projections, named alike in every version. */
    final DeviceMatrix[] receptance, key, value, output;

    GpuTimeMix(ModelFile f, DeviceMemory mem, GpuModel m) throws ModelFormatException {
        this.m = m;
        ln1W = new CUdeviceptr[m.layers];
        ln1B = new CUdeviceptr[m.layers];
        receptance = new DeviceMatrix[m.layers];
        key = new DeviceMatrix[m.layers];
        value = new DeviceMatrix[m.layers];
        output = new DeviceMatrix[m.layers];
        for (int i = 0; i < m.layers; i++) {
            ln1W[i] = mem.vector(f.tensor("blocks." + i + ".ln1.weight"));
            ln1B[i] = mem.vector(f.tensor("blocks." + i + ".ln1.bias"));
            String p = prefix(i);
            receptance[i] = mem.matrix(f.tensor(p + "receptance.weight"));
            key[i] = mem.matrix(f.tensor(p + "key.weight"));
            value[i] = mem.matrix(f.tensor(p + "value.weight"));
            output[i] = mem.matrix(f.tensor(p + "output.weight"));
        }
    }

    static String prefix(int layer) {
        return "blocks." + layer + ".att.";
    }

    /** The token shift into ws.xn and ws.prev. */
    final void shift(Pass p, int layer) {
        p.shift(ATT_XX, layer, ln1W[layer], ln1B[layer]);
    }

    /**
     * The start of the v4 and v5 time mix (as {@code RwkvEvaluator.lerpShiftProjections} on the CPU): the
     * token shift, lerped by the layer's {@code mixK}, {@code mixV}, {@code mixR} into {@code ws.mix[0..2]},
     * and the receptance, key and value projections into {@code ws.r}, {@code ws.k}, {@code ws.v}.
     */
    final void lerpShiftProjections(Pass p, int layer, CUdeviceptr mixK, CUdeviceptr mixV, CUdeviceptr mixR) {
        Workspace w = p.ws;
        shift(p, layer);
        CUdeviceptr xk = w.mix[0], xv = w.mix[1], xr = w.mix[2];
        p.ew(Kernels.OP_LERP, xk, w.xn, w.prev, Kernels.NULL, mixK);
        p.ew(Kernels.OP_LERP, xv, w.xn, w.prev, Kernels.NULL, mixV);
        p.ew(Kernels.OP_LERP, xr, w.xn, w.prev, Kernels.NULL, mixR);
        p.mm(receptance[layer], xr, w.r);
        p.mm(key[layer], xk, w.k);
        p.mm(value[layer], xv, w.v);
    }

    /** Widest hidden buffer (per row) this time mix needs. */
    abstract int hiddenWidth();

    abstract void run(Pass p, int layer);

    /** {@code c} values of a 1-D tensor of {@code c * count} values, slab {@code slab}, uploaded alone. */
    static CUdeviceptr slab(DeviceMemory mem, Tensor t, int slab, int c) {
        float[] all = t.toFloats();
        return mem.upload(java.util.Arrays.copyOfRange(all, slab * c, (slab + 1) * c));
    }
}
